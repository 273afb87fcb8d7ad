// Stub for Node built-ins ("fs", "path", ...) that emscripten glue and vtk.js
// mention only on their Node code paths. Never used in the browser.
export default {};
