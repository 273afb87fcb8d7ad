// Entry of viewer-core.<hash>.js (ES module, imported by the viewer.js loader):
// Cornerstone3D, the DICOMweb image loader and mount(). The mouse tools are a
// separate chunk (tools.js), imported once the first image is on screen.
export { version as cornerstoneVersion } from '@cornerstonejs/core';
export { cacheBytes, mount } from './viewer.js';
