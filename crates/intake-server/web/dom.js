// Building the page: every element is made here with textContent, never HTML from data. Shared by the
// app's modules.

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// Makes `node` act on a click and, as a button would, on Enter or Space.
export function activates(node, act) {
  node.addEventListener("click", act);
  node.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      act();
    }
  });
}

export function svg(tag, attrs = {}) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

// A tooltip under `rect` (a box over the page), with `text`.
export function showTip(rect, text) {
  const tip = $("tip");
  const stage = rect.closest(".stage").getBoundingClientRect();
  const box = rect.getBoundingClientRect();
  tip.textContent = text;
  tip.style.left = `${box.left - stage.left}px`;
  tip.style.top = `${box.bottom - stage.top + 4}px`;
  tip.hidden = false;
}

export function hideTip() {
  $("tip").hidden = true;
}
