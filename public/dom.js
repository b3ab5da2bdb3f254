// Building the page's elements from data: text goes in as text (textContent), never as HTML.

export function element(tag, props = {}, children = []) {
  const el = document.createElement(tag);
  Object.assign(el, props);
  el.append(...children);
  return el;
}

/**
 * A cell is text, or { text, className?, header? (a row header), vars? ({ '--name': value } CSS custom properties,
 * set through the CSSOM, which the CSP allows) }.
 */
function cell(tag, value) {
  if (typeof value !== 'object' || value === null) return element(tag, { textContent: String(value) });
  const el = element(value.header ? 'th' : tag, { textContent: value.text, className: value.className ?? '' });
  if (value.header) el.scope = 'row';
  for (const [name, v] of Object.entries(value.vars ?? {})) el.style.setProperty(name, v);
  return el;
}

/** A table from a header row (column headers) and body rows of cells. */
export function table(className, header, rows, caption) {
  const head = element('thead', {}, [element('tr', {}, header.map((h) => Object.assign(cell('th', h), { scope: 'col' })))]);
  const body = element('tbody', {}, rows.map((row) => element('tr', {}, row.map((v) => cell('td', v)))));
  return element('table', { className }, [...(caption ? [element('caption', { textContent: caption })] : []), head, body]);
}
