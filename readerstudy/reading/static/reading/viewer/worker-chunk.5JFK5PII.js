import{a as e,c as t}from"./worker-chunk.QAO5MS33.js";var d={};t(d,{default:()=>a});var a,f=e(()=>{a={}});export{d as a,f as b};
