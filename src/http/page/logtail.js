// @ts-check
// The live log tail of one service: an SSE stream of its output
// (GET /api/v1/services/NAME/log?lines=N&follow=1), the last N lines first.
// If the connection breaks the browser reconnects and the stream starts
// again with the last N lines, so the panel is cleared on every (re)open.
import { servicePath } from './api.js';

/** Lines shown at most: older ones are dropped from the top (the file has them all). */
const KEEP = 1000;
const LINES = 100;

export class LogTail {
  /** @param {{ pre: HTMLElement, title: HTMLElement, panel: HTMLElement }} parts */
  constructor({ pre, title, panel }) {
    this.pre = pre;
    this.title = title;
    this.panel = panel;
    /** @type {EventSource | null} */
    this.source = null;
    /** @type {string | null} */
    this.name = null;
  }

  /** @param {string} name */
  open(name) {
    this.close();
    this.name = name;
    this.title.textContent = name;
    this.panel.hidden = false;
    this.pre.textContent = '';
    const source = new EventSource(`${servicePath(name)}/log?lines=${LINES}&follow=1`);
    this.source = source;
    source.addEventListener('open', () => {
      this.pre.textContent = '';
      this.pre.dataset.state = 'live';
    });
    source.addEventListener('message', (message) => this.append(message.data));
    source.addEventListener('error', () => {
      // CLOSED: refused (the service is gone, the session ended), the browser does not try again.
      const closed = source.readyState === EventSource.CLOSED;
      this.pre.dataset.state = closed ? 'closed' : 'reconnecting';
      if (closed) this.append(`(the log of ${name} cannot be followed: the service may be gone)`);
    });
  }

  close() {
    this.source?.close();
    this.source = null;
    this.name = null;
  }

  /** One SSE message is one line (a message of several data: lines is several lines). @param {string} data */
  append(data) {
    const atBottom = this.pre.scrollTop + this.pre.clientHeight >= this.pre.scrollHeight - 4;
    const fragment = document.createDocumentFragment();
    for (const line of data.split('\n')) {
      const div = document.createElement('div');
      div.textContent = line;
      fragment.append(div);
    }
    this.pre.append(fragment);
    while (this.pre.childElementCount > KEEP) this.pre.firstElementChild?.remove();
    if (atBottom) this.pre.scrollTop = this.pre.scrollHeight;
  }
}
