// The document's type and fields beside the page (issue 28): each field with its value as read and
// normalised, its confidence and its warnings (a cheque's words and figures that disagree, a total
// that is not its parts), and its box on the page. Hovering or focusing a field lights its box;
// selecting it turns to its page and keeps the box lit; the "Fields" view draws every field's box.
// Boxes are fractions of the page (0..1), drawn in the overlay's unit square over the picture, so they
// scale with the picture on screen.

import { $, el, svg, showTip, hideTip, activates } from "./dom.js";

// Below this confidence (0..1) a field is marked as unsure, as low-confidence lines are.
const LOW = 0.6;

// Document kinds as the API names them, for people.
export const KINDS = Object.freeze({ receipt: "Receipt", invoice: "Invoice", cheque: "Cheque", form: "Form", other: "Other" });

// The names AnalyzeExpense's type names do not say well by themselves.
const NAMES = Object.freeze({
  INVOICE_RECEIPT_DATE: "Date",
  INVOICE_RECEIPT_ID: "Receipt or invoice no.",
  PO_NUMBER: "PO number",
  CHECK_NUMBER: "Cheque no.",
  CHECK_DATE: "Cheque date",
  AMOUNT: "Amount in figures",
  AMOUNT_IN_WORDS: "Amount in words",
  KEY_VALUE: "Form field",
  PRICE: "Price",
});

// The fields of the image on screen: its summary fields, then its line items' cells ({ field, item },
// `item` the row's number from 1); the one selected; and the app's page turning.
let listed = [];
let selected = null;
let pages = null;

function nameOf(type) {
  const name = String(type || "");
  return NAMES[name] || (name.charAt(0) + name.slice(1).toLowerCase()).replaceAll("_", " ");
}

function percent(confidence) {
  return typeof confidence === "number" ? `${Math.round(confidence * 100)}%` : "";
}

// A warning for people; its code in either spelling (WORDS_DISAGREE, wordsDisagree).
export function warningText(warning) {
  const code = String(warning.code || "").replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
  switch (code) {
    case "WORDS_DISAGREE":
      return `words and figures disagree: ${warning.figures} in figures, ${warning.words} in words`;
    case "PARTS_DISAGREE":
      return `not its parts: subtotal, tax and charges make ${warning.expected}`;
    case "LINE_ITEMS_DISAGREE":
      return `the items add up to ${warning.sum}`;
    case "UNREADABLE":
      return "not readable as its type";
    default: {
      const named = Object.entries(warning).filter(([k]) => k !== "code").map(([k, v]) => `${k} ${v}`);
      return named.length ? `${warning.code}: ${named.join(", ")}` : String(warning.code);
    }
  }
}

// What a field's tooltip and label say.
function describe(field) {
  const value = field.normalized ? `${field.normalized}${field.currency ? ` ${field.currency}` : ""}` : field.value;
  const warned = (field.warnings || []).map((w) => ` · ⚠ ${warningText(w)}`).join("");
  return `${field.type === "KEY_VALUE" && field.label ? field.label : nameOf(field.type)}: ${value} · ${percent(field.confidence)}${warned}`;
}

// Shows `image`'s document type and fields in the side panel; `app` turns pages
// ({ showPage(n), shownPage() }).
export function showFields(image, app) {
  pages = app;
  selected = null;
  const list = $("fields");
  list.replaceChildren();
  listed = [
    ...(image.fields || []).map((field) => ({ field, item: null })),
    ...(image.lineItems || []).flatMap((row, n) => (row.fields || []).map((field) => ({ field, item: n + 1 }))),
  ];
  const type = image.documentType;
  $("fields-panel").hidden = !type && !listed.length;
  $("doc-type").textContent = type ? `${KINDS[type.type] || type.type}, ${percent(type.confidence)} sure` : "";
  const doubtful = listed.filter(({ field }) => (field.warnings || []).length).length;
  $("fields-doubt").hidden = doubtful === 0;
  $("fields-doubt").textContent = `⚠ ${doubtful} field${doubtful === 1 ? "" : "s"} in doubt`;
  if (type && !listed.length) list.append(el("li", { class: "none", text: "No fields were read." }));
  let row = null;
  listed.forEach(({ field, item }, i) => {
    if (item !== null && item !== row) {
      row = item;
      list.append(el("li", { class: "item", text: `Item ${item}` }));
    }
    const warnings = field.warnings || [];
    const classes = [warnings.length ? "warn" : "", field.confidence < LOW ? "low" : ""].filter(Boolean).join(" ");
    const shown = field.normalized && field.normalized !== field.value
      ? `${field.normalized}${field.currency ? ` ${field.currency}` : ""}` : field.currency || "";
    const node = el("li", { "data-field": String(i), "data-type": field.type, tabindex: "0", role: "button",
      class: classes || null, title: `${field.type} · page ${field.page}`, "aria-label": describe(field) },
      el("span", { class: "ftype", text: field.type === "KEY_VALUE" && field.label ? field.label : nameOf(field.type) }),
      el("span", { class: "fvalue", text: field.value }),
      shown ? el("span", { class: "fnorm", text: `= ${shown}` }) : null,
      el("span", { class: "fconf", text: percent(field.confidence) }),
      ...warnings.map((w) => el("span", { class: "fwarn", role: "note", text: `⚠ ${warningText(w)}` })));
    node.addEventListener("mouseenter", () => light(i, true));
    node.addEventListener("mouseleave", () => light(i, false));
    node.addEventListener("focus", () => light(i, true));
    node.addEventListener("blur", () => light(i, false));
    activates(node, () => select(i));
    list.append(node);
  });
}

// Lights (or not) field `i` in the list and its box, when its page is on screen.
function light(i, on) {
  for (const node of document.querySelectorAll(`#overlay [data-field="${i}"], #fields [data-field="${i}"]`)) {
    node.classList.toggle("lit", on);
  }
}

// Selects field `i`: its page comes on screen and its box stays lit.
function select(i) {
  const found = listed[i];
  if (!found) return;
  selected = i;
  if ((found.field.page || 1) !== pages.shownPage()) pages.showPage(found.field.page || 1);
  for (const node of document.querySelectorAll("#overlay .box-field.on, #fields .on")) node.classList.remove("on");
  for (const node of document.querySelectorAll(`#overlay [data-field="${i}"], #fields [data-field="${i}"]`)) node.classList.add("on");
  document.querySelector(`#fields [data-field="${i}"]`)?.scrollIntoView({ block: "nearest" });
}

// Draws the boxes of the fields on page `page` into `overlay`: every one shown when `all` (the
// "Fields" view), else only those lit or selected from the list.
export function drawFieldBoxes(overlay, page, all) {
  listed.forEach(({ field }, i) => {
    const b = field.box;
    if ((field.page || 1) !== page || !b) return;
    const warned = (field.warnings || []).length > 0;
    const rect = svg("rect", { x: b.left, y: b.top, width: b.width, height: b.height, "data-field": String(i),
      class: `box box-field${warned ? " warn" : ""}${all ? " shown" : ""}${i === selected ? " on" : ""}`,
      tabindex: all ? "0" : "-1", role: "img", "aria-label": describe(field) });
    const tip = () => showTip(rect, describe(field));
    rect.addEventListener("mouseenter", tip);
    rect.addEventListener("focus", tip);
    rect.addEventListener("mouseleave", hideTip);
    rect.addEventListener("blur", hideTip);
    rect.addEventListener("click", () => select(i));
    overlay.append(rect);
  });
}
