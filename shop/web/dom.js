// Building elements from data without innerHTML, so no name a user chose can become markup.
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') element.className = value;
    else if (key === 'text') element.textContent = value;
    else element.setAttribute(key, value);
  }
  element.append(...children);
  return element;
}

export function byId(id) {
  return document.getElementById(id);
}

/** Fill a table body with rows of cells; a cell is text, or [text, className]. */
export function fillRows(tbody, rows) {
  tbody.replaceChildren(
    ...rows.map((cells) =>
      h('tr', {}, ...cells.map((cell) => (Array.isArray(cell) ? h('td', { class: cell[1] }, cell[0]) : h('td', {}, cell)))),
    ),
  );
}
