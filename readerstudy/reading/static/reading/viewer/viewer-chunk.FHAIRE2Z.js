import{a as e,c as t}from"./viewer-chunk.J4JEFKPF.js";var d={};t(d,{default:()=>a});var a,f=e(()=>{a={}});export{d as a,f as b};
