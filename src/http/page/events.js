// @ts-check
// The recent events: the history once (GET /api/v1/events), then every new
// one from the SSE stream, which the browser resumes by itself after a
// broken connection (it sends Last-Event-ID). Each event also tells the page
// which service to look at again: state comes from events, not from polling.
import { api } from './api.js';
import { clockTime, eventDetail } from './format.js';

/** The kinds the stream names in `event:` (an SSE listener is per name). */
export const EVENT_KINDS = ['started', 'ready', 'unhealthy', 'exited', 'stopped', 'crashed', 'failed', 'added', 'removed', 'changed', 'invalid'];

/** Events kept in the list: the page shows what is recent; `proclaunch events` has the rest. */
const KEEP = 200;

/** Event ids are `MS-K` (the time in ms, the index within that ms): they grow with time. */
function idOrder(id) {
  const [ms = '', k = ''] = String(id).split('-');
  return [Number(ms), Number(k)];
}
const after = (a, b) => {
  const [am, ak] = idOrder(a);
  const [bm, bk] = idOrder(b);
  return am > bm || (am === bm && ak > bk);
};

export class EventFeed {
  /**
   * @param {{ list: HTMLOListElement, onEvent: (e: any) => void, onStatus: (live: boolean) => void, onResumed: () => void }} parts
   */
  constructor({ list, onEvent, onStatus, onResumed }) {
    this.list = list;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.onResumed = onResumed;
    /** @type {EventSource | null} */
    this.source = null;
    /** The id of the last event shown: one the stream sends again (a resumption) is dropped. @type {string | null} */
    this.lastId = null;
    /** Events received, not yet in the list (at most KEEP: a hidden page draws no frame). @type {any[]} */
    this.pending = [];
    /** @type {number | null} */
    this.frame = null;
  }

  /**
   * The history, then the stream from the history's last event on
   * (`?lastEventId=`): nothing falls in between; after a broken connection
   * the browser resumes with Last-Event-ID by itself.
   */
  async start() {
    const { events = [] } = await api('/api/v1/events');
    const recent = events.slice(-KEEP);
    this.lastId = recent.length ? String(recent[recent.length - 1].id) : null;
    this.show(recent);
    this.source = new EventSource(`/api/v1/events/stream${this.lastId ? `?lastEventId=${encodeURIComponent(this.lastId)}` : ''}`);
    const receive = (/** @type {MessageEvent} */ message) => this.receive(message.data);
    for (const kind of EVENT_KINDS) this.source.addEventListener(kind, receive);
    this.source.addEventListener('message', receive);
    this.source.addEventListener('open', () => {
      this.onStatus(true);
      // Connected (or again, resumed with Last-Event-ID): a change before this moment is known
      // only from a reading taken after it, so every service is read again now.
      this.onResumed();
    });
    this.source.addEventListener('error', () => this.onStatus(false));
  }

  stop() {
    this.source?.close();
    this.source = null;
  }

  receive(data) {
    let record;
    try {
      record = JSON.parse(data);
    } catch {
      return;
    }
    if (!record || typeof record !== 'object') return;
    if (record.id !== undefined) {
      if (this.lastId !== null && !after(record.id, this.lastId)) return;
      this.lastId = String(record.id);
    }
    this.onEvent(record);
    this.show([record]);
  }

  /** Shown at the next frame, all at once (a burst of 1,000 is one change of the list, not 1,000). */
  show(records) {
    this.pending.push(...records);
    if (this.pending.length > KEEP) this.pending.splice(0, this.pending.length - KEEP);
    if (this.frame === null && this.pending.length > 0) this.frame = requestAnimationFrame(() => this.render());
  }

  /** Newest first; the list never holds more than KEEP items. */
  render() {
    this.frame = null;
    const fragment = document.createDocumentFragment();
    for (const e of this.pending.reverse()) fragment.append(this.item(e));
    this.pending = [];
    this.list.prepend(fragment);
    while (this.list.childElementCount > KEEP) this.list.lastElementChild?.remove();
  }

  item(e) {
    const li = document.createElement('li');
    const time = document.createElement('time');
    time.dateTime = String(e.time);
    time.title = String(e.time);
    time.textContent = clockTime(e.time);
    const kind = document.createElement('span');
    kind.className = `kind ${EVENT_KINDS.includes(e.event) ? e.event : 'other'}`;
    kind.textContent = String(e.event);
    const profile = document.createElement('span');
    profile.className = 'profile';
    profile.textContent = String(e.profile ?? '');
    const detail = document.createElement('span');
    detail.className = 'detail';
    detail.textContent = eventDetail(e);
    li.append(time, ' ', kind, ' ', profile, ' ', detail);
    return li;
  }
}
