// Adds the viewer's stylesheet once, unless the page already links it (any hashed name).
export function injectViewerCss(href) {
  if (document.querySelector('link[data-readerstudy-viewer-css]')) return;
  for (const l of document.querySelectorAll('link[rel="stylesheet"]')) {
    if (l.href === href || /\/viewer(\.[0-9a-f]+)?\.css$/.test(l.href)) return;
  }
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  link.dataset.readerstudyViewerCss = '1';
  document.head.appendChild(link);
}
