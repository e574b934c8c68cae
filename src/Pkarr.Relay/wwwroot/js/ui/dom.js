// Small DOM helpers. Elements are built with createElement and textContent, never innerHTML, so that text from the
// network (TXT records, relay errors) can never become markup.

/** h('p', { class: 'x', for: 'id' }, 'text', child…): an element with attributes and children. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) {
      continue;
    }
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  element.append(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

/** Replaces the children of `element`. */
export function fill(element, ...children) {
  element.replaceChildren(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
}

let ids = 0;

/** A fresh element id, so that generated inputs get a <label for>. */
export function uid(prefix) {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** Shows a message in a live region: kind 'error' | 'ok' | 'info'. An empty text hides it. */
export function say(element, kind, ...content) {
  element.classList.remove('error', 'ok', 'info');
  if (content.length === 0 || (content.length === 1 && content[0] === '')) {
    element.hidden = true;
    element.replaceChildren();
    return;
  }
  element.classList.add(kind);
  element.hidden = false;
  fill(element, ...content);
}

/** Copies text; the button says whether it worked (the clipboard needs a secure context). */
export async function copy(text, button) {
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    button.textContent = 'Copy failed: select and copy by hand';
  }
  setTimeout(() => {
    button.textContent = label;
  }, 1500);
}
