// ordersync console: routing between the pages (#/overview, #/order/ID, #/exceptions,
// #/dlq, #/quarantine) and the session (is the engine's admin token configured?).
'use strict';
(function (OS) {
  let current = null;

  OS.route = async () => {
    const hash = location.hash || '#/overview';
    const path = hash.slice(2).split('?')[0];
    const [name, ...rest] = path.split('/');
    const page = OS.pages[name] ? name : 'overview';
    if (current && current.hide) current.hide();
    current = OS.pages[page];
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page);
    document.title = 'ordersync — ' + (document.querySelector(`#nav a[data-page="${page}"]`) || {}).textContent;
    const root = OS.clear(document.getElementById('page'));
    root.dataset.page = page;
    await current.show(root, decodeURIComponent(rest.join('/')));
    root.dataset.ready = page;
  };

  async function start() {
    try {
      Object.assign(OS.session, await OS.api('/api/session'));
    } catch (e) {
      document.getElementById('page').textContent = 'The console cannot reach its engine: ' + e.message;
    }
    OS.renderAuth();
    window.addEventListener('hashchange', OS.route);
    await OS.route();
  }
  start();
})(window.OS);
