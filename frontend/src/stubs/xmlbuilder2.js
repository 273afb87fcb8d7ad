// Stand-in for xmlbuilder2. vtk.js imports it only for its XML readers/writers
// (VTP/VTI mesh files: Cornerstone's surface Mesh cache and the orientation
// marker tool). The reader-study viewer uses neither; stubbing it drops about
// 300 KB (xmlbuilder2, @oozcitak/*, js-yaml) from viewer.js.
export function create() {
  throw new Error('readerstudy viewer: XML (VTP/VTI) support is not bundled');
}
export default { create };
