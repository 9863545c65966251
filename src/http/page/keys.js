// @ts-check
// Keyboard use beside Tab and Enter (every control is a real button or
// input): `/` to the filter, Esc to clear it, j/k (or the arrows within the
// table) from service to service, x to select the one in focus.

/** Where a key is text (the filter, the token), not a shortcut. */
const typing = (el) =>
  (el instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit'].includes(el.type)) ||
  el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement || (el instanceof HTMLElement && el.isContentEditable);

/** @param {{ filter: HTMLInputElement, table: import('./services.js').ServiceTable }} parts */
export function bindKeys({ filter, table }) {
  /** The row that has the focus (on its name, a button or its checkbox), if any. */
  const focusedRow = () => /** @type {HTMLElement | null} */ (document.activeElement?.closest('#rows > .row') ?? null);

  /** @param {1 | -1} step */
  function move(step) {
    const rows = table.shown().map((r) => r.el);
    if (rows.length === 0) return;
    const current = focusedRow();
    const at = current ? rows.indexOf(current) : -1;
    const next = rows[Math.min(rows.length - 1, Math.max(0, at === -1 ? 0 : at + step))];
    /** @type {HTMLElement | null} */ (next?.querySelector('.name-button') ?? null)?.focus();
  }

  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target === filter && event.key === 'Escape') {
      if (filter.value) {
        filter.value = '';
        table.setFilter('');
      } else filter.blur();
      event.preventDefault();
      return;
    }
    if (typing(target)) return;
    const inTable = focusedRow() !== null;
    switch (event.key) {
      case '/':
        filter.focus();
        filter.select();
        break;
      case 'j':
        move(1);
        break;
      case 'k':
        move(-1);
        break;
      case 'ArrowDown':
        if (!inTable) return;
        move(1);
        break;
      case 'ArrowUp':
        if (!inTable) return;
        move(-1);
        break;
      case 'x': {
        const box = /** @type {HTMLInputElement | null} */ (focusedRow()?.querySelector('input[type="checkbox"]') ?? null);
        if (!box) return;
        box.checked = !box.checked;
        box.dispatchEvent(new Event('change', { bubbles: true }));
        break;
      }
      default:
        return;
    }
    event.preventDefault();
  });
}
