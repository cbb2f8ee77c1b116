// Intake's web app: sign in with an API key, upload by dropping files, browse and search the library,
// and look at an image with what was read on it. It speaks only the public API (the same routes as any
// client) and builds every element with textContent, never HTML from data.

// File extensions and the types they name, when the browser does not say: Intake's one table,
// which the server serves from the domain (the CLI uses the same).
import { TYPES } from "./types.js";
import { $, el, svg, showTip, hideTip, activates } from "./dom.js";
import { showFields, drawFieldBoxes, KINDS } from "./fields.js";

const KEY = "intake.apiKey";
const PAGE = 40;
const POLL_MS = 1500;
const LOW_CONFIDENCE = 60;
const TERMINAL = new Set(["PROCESSED", "REJECTED", "FAILED"]);

// What went wrong in the page, for people (a banner) and for the browser test.
window.__intakeErrors = [];
window.__intakeCspViolations = [];
// In the capture phase, so that images and scripts that fail to load are seen too; and whatever the
// page itself reports as an error.
window.addEventListener("error", (e) => {
  const target = e.target && e.target !== window ? e.target : null;
  // A thumbnail whose URL expired is fetched again (see itemFor); only a second failure counts.
  if (target && target.classList && target.classList.contains("thumb") && !target.dataset.retried) return;
  window.__intakeErrors.push(target ? `failed to load ${target.currentSrc || target.src || target.href}` : String(e.message || e));
}, true);
const consoleError = console.error.bind(console);
console.error = (...args) => {
  window.__intakeErrors.push(args.map(String).join(" "));
  consoleError(...args);
};
window.addEventListener("unhandledrejection", (e) => window.__intakeErrors.push(String(e.reason)));
document.addEventListener("securitypolicyviolation", (e) =>
  window.__intakeCspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));

// ---------------------------------------------------------------- the API

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path, options = {}) {
  const key = sessionStorage.getItem(KEY);
  const headers = { ...(options.headers || {}) };
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(path, { ...options, headers });
  if (response.status === 204) return null;
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = body && body.error ? body.error : { code: `HTTP_${response.status}`, message: response.statusText };
    if (response.status === 401 && key) signOut(error.message);
    throw new ApiError(response.status, error.code, error.message);
  }
  return body;
}

// ---------------------------------------------------------------- sign in

function signOut(reason) {
  sessionStorage.removeItem(KEY);
  // Nothing of the previous key's images stays on the page.
  library.generation += 1;
  library.cursor = null;
  library.loaded = false;
  library.params = null;
  library.items.clear();
  $("images").replaceChildren();
  $("uploads").replaceChildren();
  $("summary").textContent = "";
  current = null;
  detailToken += 1;
  stopPolling();
  show();
  if (reason) {
    $("sign-in-error").textContent = reason;
    $("sign-in-error").hidden = false;
  }
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = $("api-key").value.trim();
  const error = $("sign-in-error");
  error.hidden = true;
  sessionStorage.setItem(KEY, key);
  try {
    await api("/images?limit=1");
    $("api-key").value = "";
    show();
  } catch (e) {
    sessionStorage.removeItem(KEY);
    error.textContent = e.status === 401 ? "That key is not valid (or was revoked)." : `Cannot reach Intake: ${e.message}`;
    error.hidden = false;
  }
});

$("sign-out").addEventListener("click", () => {
  signOut();
  location.hash = "#/";
});

// ---------------------------------------------------------------- routing

function show() {
  const signedIn = Boolean(sessionStorage.getItem(KEY));
  $("sign-in").hidden = signedIn;
  $("sign-out").hidden = !signedIn;
  $("search-form").hidden = !signedIn;
  const match = location.hash.match(/^#\/images\/([0-9a-f-]{36})$/);
  $("library").hidden = !signedIn || Boolean(match);
  $("detail").hidden = !signedIn || !match;
  if (!signedIn) {
    stopPolling();
    $("api-key").focus();
    return;
  }
  if (match) openDetail(match[1]);
  else if (!library.loaded) reload();
}

window.addEventListener("hashchange", show);

// ---------------------------------------------------------------- the library

const library = { cursor: null, loading: false, loaded: false, generation: 0, params: null, items: new Map() };

function query() {
  const params = new URLSearchParams({ limit: String(PAGE) });
  const q = $("search").value.trim();
  const status = $("status").value;
  const kind = $("doctype").value;
  if (q) params.set("q", q);
  if (status) params.set("status", status);
  if (kind) params.set("documentType", kind);
  return params;
}

function reload() {
  library.generation += 1;
  library.cursor = null;
  library.loaded = false;
  // Every page of one listing asks the same question, whatever is typed meanwhile.
  library.params = query();
  library.items.clear();
  $("images").replaceChildren();
  $("summary").textContent = "";
  loadMore();
}

async function loadMore() {
  if (library.loading || (library.loaded && !library.cursor)) return;
  library.loading = true;
  const generation = library.generation;
  const params = new URLSearchParams(library.params || query());
  if (library.cursor) params.set("cursor", library.cursor);
  let stale = false;
  try {
    const page = await api(`/images?${params}`);
    if (generation !== library.generation) {
      stale = true;
      return;
    }
    for (const image of page.images) addItem(image);
    library.cursor = page.nextCursor || null;
    library.loaded = true;
    summarize();
    schedulePoll();
  } catch (e) {
    if (generation === library.generation) $("summary").textContent = `${e.code}: ${e.message}`;
    else stale = true;
  } finally {
    library.loading = false;
  }
  // A newer listing started while this one was on its way: it loads now. Otherwise keep filling
  // while the end of the list is on screen.
  if (stale || (library.cursor && isVisible($("more")))) loadMore();
}

function isVisible(node) {
  if (node.offsetParent === null) return false;
  const box = node.getBoundingClientRect();
  return box.top < window.innerHeight + 400;
}

new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting)) loadMore();
}, { rootMargin: "400px" }).observe($("more"));

function summarize() {
  const n = library.items.size;
  const q = $("search").value.trim();
  const more = library.cursor ? "+" : "";
  const kind = $("doctype").value;
  const read = kind ? ` read as ${KINDS[kind].toLowerCase()}s` : "";
  $("summary").textContent = q
    ? `${n}${more} image${n === 1 ? "" : "s"}${read} matching “${q}”, best first`
    : n || read ? `${n}${more} image${n === 1 ? "" : "s"}${read}, newest first` : "No images yet: drop some above.";
}

function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString();
}

function snippet(parts) {
  const p = el("p", { class: "snippet" });
  for (const part of parts || []) p.append(part.matched ? el("mark", { text: part.text }) : part.text);
  return p;
}

function itemFor(image) {
  const kind = image.documentType && (KINDS[image.documentType.type] || image.documentType.type);
  const facts = [kind, image.contentType || image.declaredContentType, image.sizeBytes ? `${image.sizeBytes.toLocaleString()} bytes` : null,
    image.widthPx ? `${image.widthPx} × ${image.heightPx} px` : null, when(image.createdAt)].filter(Boolean).join(" · ");
  const code = image.rejectionCode || image.failureCode;
  const thumb = image.thumbnailUrl
    ? el("img", { class: "thumb", src: image.thumbnailUrl, alt: "", loading: "lazy", decoding: "async" })
    : el("span", { class: "thumb none", "aria-hidden": "true" });
  if (image.thumbnailUrl) {
    // Signed URLs expire: a thumbnail first shown after that gets a fresh one, once.
    thumb.addEventListener("error", () => {
      if (thumb.dataset.retried) return;
      thumb.dataset.retried = "1";
      thumbnails.delete(image.imageId);
      library.items.get(image.imageId).image.thumbnailUrl = undefined;
      thumbnailOf(image);
    }, { once: true });
  }
  return el("li", { "data-id": image.imageId, "data-status": image.status },
    el("a", { href: `#/images/${image.imageId}` },
      thumb,
      el("span", { class: "name", text: image.fileName }),
      el("span", { class: `badge ${image.status}`, text: image.status }),
      el("span", { class: "meta", text: code ? `${facts} · ${code}` : facts },
        image.nearDuplicates && image.nearDuplicates.length
          ? el("span", { class: "dup", title: "Looks like the same document as another of your images: open it to compare", text: "possible duplicate" })
          : null),
      image.match ? snippet(image.match.snippet) : null));
}

// A fresh signed thumbnail URL for an image whose URL expired: the image read again signs one.
const thumbnails = new Map();
function thumbnailOf(image) {
  if (thumbnails.has(image.imageId)) return thumbnails.get(image.imageId);
  thumbnails.set(image.imageId, undefined);
  api(`/images/${image.imageId}`).then((found) => {
    if (found && found.thumbnailUrl) {
      thumbnails.set(image.imageId, found.thumbnailUrl);
      const item = library.items.get(image.imageId);
      if (item) updateItem({ ...item.image, thumbnailUrl: found.thumbnailUrl });
    } else {
      thumbnails.delete(image.imageId);
    }
  }).catch(() => thumbnails.delete(image.imageId));
  return undefined;
}

function addItem(image) {
  const node = itemFor(image);
  const old = library.items.get(image.imageId);
  if (old) old.node.replaceWith(node);
  else $("images").append(node);
  library.items.set(image.imageId, { image, node });
}

function updateItem(image) {
  const old = library.items.get(image.imageId);
  if (!old) return;
  // A record read again signs its thumbnail afresh; a new preview shows as soon as the image is
  // processed.
  const thumbnailUrl = image.thumbnailUrl || old.image.thumbnailUrl;
  const merged = { ...image, match: old.image.match, thumbnailUrl };
  const node = itemFor(merged);
  old.node.replaceWith(node);
  library.items.set(image.imageId, { image: merged, node });
}

// Status badges follow images that are still being processed.
let pollTimer = null;

function stopPolling() {
  clearTimeout(pollTimer);
  pollTimer = null;
}

function schedulePoll() {
  if (pollTimer) return;
  const generation = library.generation;
  pollTimer = setTimeout(async () => {
    pollTimer = null;
    if (generation !== library.generation || !sessionStorage.getItem(KEY)) return;
    const pending = [...library.items.values()].filter((i) => !TERMINAL.has(i.image.status)).slice(0, 20);
    for (const { image } of pending) {
      try {
        updateItem(await api(`/images/${image.imageId}`));
      } catch (e) {
        if (e.status === 404) {
          library.items.get(image.imageId)?.node.remove();
          library.items.delete(image.imageId);
        }
      }
    }
    if (generation === library.generation && [...library.items.values()].some((i) => !TERMINAL.has(i.image.status))) schedulePoll();
  }, POLL_MS);
}

let searchTimer = null;
$("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    if (location.hash !== "#/" && location.hash !== "") location.hash = "#/";
    reload();
  }, 250);
});
$("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  clearTimeout(searchTimer);
  if (location.hash !== "#/") location.hash = "#/";
  reload();
});
// The document kinds to filter by: the fields module's one table.
for (const [kind, name] of Object.entries(KINDS)) $("doctype").append(el("option", { value: kind, text: `${name}s` }));
for (const id of ["status", "doctype"]) {
  $(id).addEventListener("change", () => {
    if (location.hash !== "#/" && location.hash !== "") location.hash = "#/";
    reload();
  });
}

// ---------------------------------------------------------------- uploads

function typeOf(file) {
  if (file.type) return file.type;
  const ext = file.name.split(".").pop().toLowerCase();
  return TYPES[ext] || "application/octet-stream";
}

async function sha256Hex(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const REFUSALS = {
  UNSUPPORTED_CONTENT_TYPE: "not an image type Intake reads",
  TOO_LARGE: "too large",
  INVALID_FILE_NAME: "its name cannot be used",
  INSUFFICIENT_STORAGE: "the server is out of space; try again later",
};

async function uploadOne(file) {
  const progress = el("progress", { max: "100", value: "0" });
  const note = el("span", { class: "note", text: "hashing…" });
  const row = el("li", {}, el("span", { class: "name", text: file.webkitRelativePath || file.name }), progress, note);
  $("uploads").prepend(row);
  const fail = (text) => {
    note.textContent = text;
    note.classList.add("bad");
    progress.remove();
  };
  try {
    const bytes = await file.arrayBuffer();
    const ticket = await api("/uploads", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ filename: file.name, contentType: typeOf(file), sizeBytes: file.size, sha256: await sha256Hex(bytes) }),
    });
    note.textContent = "uploading…";
    await put(ticket, file, progress);
    note.replaceChildren("uploaded", ticket.duplicateOf ? " · same bytes as " : "",
      ticket.duplicateOf ? el("a", { href: `#/images/${ticket.duplicateOf}`, text: "an image you have" }) : "");
    addItem({ imageId: ticket.imageId, fileName: file.name, status: "PROCESSING", declaredContentType: typeOf(file),
      sizeBytes: file.size, createdAt: new Date().toISOString() });
    if (!$("search").value.trim()) {
      const node = library.items.get(ticket.imageId).node;
      $("images").prepend(node);
    }
    summarize();
    schedulePoll();
  } catch (e) {
    fail(e instanceof ApiError ? `refused: ${REFUSALS[e.code] || e.message} (${e.code})` : `failed: ${e.message}`);
  }
}

function put(ticket, file, progress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(ticket.method || "PUT", ticket.uploadUrl);
    for (const [name, value] of Object.entries(ticket.requiredHeaders || {})) {
      // The browser sets the length from the body itself and refuses to be told.
      if (name.toLowerCase() !== "content-length") xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) progress.value = (100 * e.loaded) / e.total; };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        progress.value = 100;
        resolve();
      } else {
        let error = { code: `HTTP_${xhr.status}`, message: xhr.statusText };
        try { error = JSON.parse(xhr.responseText).error || error; } catch { /* not JSON */ }
        reject(new ApiError(xhr.status, error.code, error.message));
      }
    };
    xhr.onerror = () => reject(new Error("the connection failed"));
    xhr.send(file);
  });
}

async function uploadAll(files) {
  const queue = [...files].filter((f) => f.size > 0 || f.type);
  const workers = Array.from({ length: Math.min(4, queue.length) }, async () => {
    while (queue.length) await uploadOne(queue.shift());
  });
  await Promise.all(workers);
}

// Dropped folders are walked for their files.
async function filesOf(items) {
  const files = [];
  const walk = async (entry) => {
    if (!entry) return;
    if (entry.isFile) {
      files.push(await new Promise((ok, no) => entry.file(ok, no)));
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((ok, no) => reader.readEntries(ok, no));
        if (!batch.length) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  for (const entry of [...items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry())) await walk(entry);
  return files;
}

const drop = $("drop");
drop.addEventListener("keydown", (e) => {
  if ((e.key === "Enter" || e.key === " ") && e.target === drop) {
    e.preventDefault();
    $("files").click();
  }
});
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", async (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  const files = e.dataTransfer.items ? await filesOf(e.dataTransfer.items) : e.dataTransfer.files;
  uploadAll(files);
});
for (const id of ["files", "folder"]) {
  $(id).addEventListener("change", (e) => {
    uploadAll(e.target.files);
    e.target.value = "";
  });
}

// ---------------------------------------------------------------- one image

let current = null;
let detailToken = 0;
// The page on screen (from 1), for documents of several pages.
let shownPage = 1;

// How the fields panel turns to a field's page.
const turner = { showPage: (n) => showPage(n), shownPage: () => shownPage };

// The pages of an image: what it recorded, else one.
function pagesOf(image) {
  return image && image.pages && image.pages.length ? image.pages : [{ page: 1 }];
}

// Browsers show these formats themselves; a TIFF or HEIC page (only Safari draws HEIC) has only its boxes.
function viewable(image) {
  return /^image\/(png|jpeg|gif|webp|bmp)$/.test(image.contentType || image.declaredContentType || "");
}

async function openDetail(id) {
  const token = ++detailToken;
  current = null;
  forgetPagePictures();
  $("thumbs").hidden = true;
  $("overlay").replaceChildren();
  $("text").replaceChildren();
  $("facts").replaceChildren();
  showFields({}, turner);
  $("detail-name").textContent = "Loading…";
  $("picture").removeAttribute("src");
  let image;
  try {
    image = await api(`/images/${id}?include=ocrLines`);
  } catch (e) {
    if (token === detailToken) {
      $("detail-name").textContent = e.status === 404 ? "No such image (deleted, or not yours)." : `${e.code}: ${e.message}`;
    }
    return;
  }
  // Another image was opened meanwhile: this answer is not the one on screen.
  if (token !== detailToken) return;
  current = image;
  $("detail-name").textContent = image.fileName;
  $("detail-name").focus();
  const facts = [
    ["Status", image.status],
    ["Rejected", image.rejectionCode && `${image.rejectionCode}: ${image.rejectionMessage || ""}`],
    ["Failed", image.failureCode && `${image.failureCode}: ${image.failureMessage || ""}`],
    ["Type", image.contentType || image.declaredContentType],
    ["Size", image.sizeBytes && `${image.sizeBytes.toLocaleString()} bytes`],
    ["Dimensions", image.widthPx && `${image.widthPx} × ${image.heightPx} px${image.pageCount > 1 ? `, ${image.pageCount} pages` : ""}`],
    ["SHA-256", image.sha256],
    ["Engine", image.ocrEngine],
    ["Lines", image.ocrLineCount !== undefined ? String(image.ocrLineCount) : null],
    ["Confidence", image.ocrAvgConfidencePct !== undefined ? `${image.ocrAvgConfidencePct.toFixed(1)}%` : null],
    ["Uploaded", when(image.createdAt)],
    ["Processed", image.processedAt && `${when(image.processedAt)} (${((new Date(image.processedAt) - new Date(image.createdAt)) / 1000).toFixed(1)} s after the upload was asked for)`],
  ];
  for (const [name, value] of facts) {
    if (value) $("facts").append(el("dt", { text: name }), el("dd", { text: value }));
  }
  if (image.duplicateOf) {
    $("facts").append(el("dt", { text: "Duplicate of" }),
      el("dd", {}, el("a", { href: `#/images/${image.duplicateOf}`, text: image.duplicateOf })));
  }
  showNearDuplicates(image, token);
  showFields(image, turner);
  const download = $("download");
  download.hidden = !image.downloadUrl;
  if (image.downloadUrl) {
    download.href = image.downloadUrl;
    download.setAttribute("download", image.fileName);
  }
  $("exports").hidden = image.status !== "PROCESSED";
  $("picture").alt = `${image.fileName}${image.ocrText ? `, reading: ${image.ocrText.slice(0, 200)}` : ""}`;
  drawText(image.ocrLines || []);
  drawThumbs();
  showPage(1);
  // Opened from a search: the lines that matched are marked, and the first is brought into view.
  const hit = library.items.get(id)?.image.match;
  if (hit && hit.lines.length) {
    for (const i of hit.lines) {
      for (const node of document.querySelectorAll(`#overlay [data-line="${i}"], #text [data-line="${i}"]`)) node.classList.add("hit");
    }
    document.querySelector(`#text [data-line="${hit.lines[0]}"]`)?.scrollIntoView({ block: "nearest" });
  }
}

// The images this one looks like the same document as (re-scanned, re-photographed): each named
// with why (the basis, how alike, the tokens both have), and the closest beside this one, page by
// page as the server draws them, for a person to decide. A flag never rejects anything.
function showNearDuplicates(image, token) {
  const found = image.nearDuplicates || [];
  const panel = $("compare");
  panel.hidden = found.length === 0;
  $("compare-list").replaceChildren();
  $("compare-pair").replaceChildren();
  if (!found.length) return;
  for (const [i, dup] of found.entries()) {
    const why = `${dup.basis}, ${(100 * dup.similarity).toFixed(0)}% alike${dup.matchedTokens.length ? `; both have ${dup.matchedTokens.join(" ")}` : ""}`;
    const button = el("button", { type: "button", class: "quiet", "data-compare": dup.imageId, text: "Side by side" });
    button.addEventListener("click", () => comparePair(image, dup, token));
    $("compare-list").append(el("li", {},
      el("a", { href: `#/images/${dup.imageId}`, text: dup.imageId }), ` (${why}) `, button));
    if (i === 0) comparePair(image, dup, token);
  }
}

async function comparePair(image, dup, token) {
  const pair = $("compare-pair");
  const side = (id, page, caption) => {
    const img = el("img", { alt: caption, "data-image": id });
    pagePicture(id, page).then((url) => {
      if (url && token === detailToken) img.src = url;
    }).catch(() => {});
    return el("figure", {}, img, el("figcaption", { text: caption }));
  };
  pair.replaceChildren(
    side(image.imageId, dup.page, `This image, page ${dup.page}`),
    side(dup.imageId, dup.otherPage, `The other image, page ${dup.otherPage}`));
}

// Pictures of pages the server drew (PDF and TIFF pages, HEIC), as object URLs, for the image on
// screen; `pictureToken` tells a late answer for another page or image from the one awaited.
const pagePictures = new Map();
let pictureToken = 0;

function forgetPagePictures() {
  for (const url of pagePictures.values()) URL.revokeObjectURL(url);
  pagePictures.clear();
}

// The server's picture of page `n` of image `id` in `size` (`page` or `thumb`); it answers with a
// redirect to the stored JPEG.
async function pagePicture(id, n, size = "page") {
  const cached = pagePictures.get(`${id}/${n}/${size}`);
  if (cached) return cached;
  const key = sessionStorage.getItem(KEY);
  const response = await fetch(`/images/${id}/pages/${n}?size=${size}`, {
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });
  if (!response.ok) return null;
  const url = URL.createObjectURL(await response.blob());
  pagePictures.set(`${id}/${n}/${size}`, url);
  return url;
}

// A strip of the pages of a processed document: each page's thumbnail, asked for when it scrolls
// into view, and a click shows that page.
let thumbWatcher = null;
function drawThumbs() {
  const strip = $("thumbs");
  strip.replaceChildren();
  thumbWatcher?.disconnect();
  const pages = pagesOf(current);
  strip.hidden = pages.length < 2 || current.status !== "PROCESSED";
  if (strip.hidden) return;
  const image = current;
  thumbWatcher = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      thumbWatcher.unobserve(entry.target);
      const img = entry.target;
      pagePicture(image.imageId, Number(img.dataset.page), "thumb").then((url) => {
        if (url && current === image) img.src = url;
      }).catch(() => {});
    }
  }, { root: strip });
  pages.forEach((_, i) => {
    const n = i + 1;
    const img = el("img", { alt: `Page ${n}`, "data-page": String(n) });
    const button = el("button", { type: "button", title: `Page ${n}`, "data-page": String(n) }, img);
    button.addEventListener("click", () => showPage(n));
    strip.append(el("li", {}, button));
    thumbWatcher.observe(img);
  });
}

// Shows page `n`: the picture where the browser can draw it, else the server's picture of the
// page (a blank page of its size until it arrives, or where there is none), and the boxes of that
// page's lines.
function showPage(n) {
  const pages = pagesOf(current);
  shownPage = Math.min(Math.max(1, n), pages.length);
  const page = pages[shownPage - 1];
  const picture = $("picture");
  const stage = picture.closest(".stage");
  if (shownPage === 1 && current.downloadUrl && viewable(current)) {
    picture.hidden = false;
    picture.src = current.downloadUrl;
    stage.classList.remove("blank");
    stage.style.aspectRatio = "";
  } else {
    picture.hidden = true;
    picture.removeAttribute("src");
    stage.classList.add("blank");
    const w = page.widthPx || current.widthPx || 3;
    const h = page.heightPx || current.heightPx || 4;
    stage.style.aspectRatio = `${w} / ${h}`;
    if (current.status === "PROCESSED") {
      const token = ++pictureToken;
      const image = current;
      pagePicture(image.imageId, shownPage).then((url) => {
        if (!url || token !== pictureToken || current !== image) return;
        picture.src = url;
        picture.hidden = false;
        stage.classList.remove("blank");
      }).catch(() => {});
    }
  }
  $("pager").hidden = pages.length < 2;
  for (const button of $("thumbs").querySelectorAll("button")) {
    if (Number(button.dataset.page) === shownPage) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  $("page-of").textContent = `Page ${shownPage} of ${pages.length}`;
  $("prev-page").disabled = shownPage <= 1;
  $("next-page").disabled = shownPage >= pages.length;
  drawBoxes();
}

$("prev-page").addEventListener("click", () => showPage(shownPage - 1));
$("next-page").addEventListener("click", () => showPage(shownPage + 1));

// Downloads an export of the image on screen (the API answers it as a file).
async function exportAs(format) {
  if (!current) return;
  const key = sessionStorage.getItem(KEY);
  const response = await fetch(`/images/${current.imageId}/export?format=${format}`, {
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    $("detail-name").textContent = `Not exported: ${body && body.error ? `${body.error.code}: ${body.error.message}` : response.status}`;
    return;
  }
  const name = /filename="([^"]*)"/.exec(response.headers.get("content-disposition") || "")?.[1] || `${current.imageId}.${format}`;
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

for (const button of document.querySelectorAll("#exports button")) {
  button.addEventListener("click", () => exportAs(button.dataset.format));
}

function boxMode() {
  return document.querySelector("input[name=boxes]:checked").value;
}

function drawText(lines) {
  const list = $("text");
  list.replaceChildren();
  const several = pagesOf(current).length > 1;
  lines.forEach((line, i) => {
    const page = line.page || 1;
    if (several && (i === 0 || (lines[i - 1].page || 1) !== page)) {
      const heading = el("li", { class: "page", text: `Page ${page}`, role: "button", tabindex: "0" });
      heading.addEventListener("click", () => showPage(page));
      list.append(heading);
    }
    // Numbered by line, the page headings between them not counted.
    const item = el("li", { "data-line": String(i), value: String(i + 1), class: line.confidence < LOW_CONFIDENCE ? "low" : null, text: line.text, tabindex: "0",
      role: "button", title: `confidence ${line.confidence.toFixed(0)}%` });
    activates(item, () => select(i));
    list.append(item);
  });
  if (!lines.length) list.append(el("li", { text: current && current.ocrText ? current.ocrText : "No text was read." }));
}

function drawBoxes() {
  const overlay = $("overlay");
  overlay.replaceChildren();
  if (!current) return;
  const mode = boxMode();
  (current.ocrLines || []).forEach((line, i) => {
    if ((line.page || 1) !== shownPage) return;
    const shapes = mode === "lines" ? [line] : mode === "words" ? line.words || [] : [];
    for (const shape of shapes) {
      const b = shape.boundingBox;
      const hit = library.items.get(current.imageId)?.image.match?.lines.includes(i);
      // Line boxes are tab stops (the text list covers words from the keyboard).
      const rect = svg("rect", { x: b.left, y: b.top, width: b.width, height: b.height, tabindex: mode === "lines" ? "0" : "-1",
        role: "img", "data-line": String(i),
        class: `box box-${mode === "lines" ? "line" : "word"}${shape.confidence < LOW_CONFIDENCE ? " low" : ""}${hit ? " hit" : ""}`,
        "aria-label": `${shape.text} (confidence ${shape.confidence.toFixed(0)}%)` });
      const tip = () => showTip(rect, `${shape.text} · ${shape.confidence.toFixed(0)}%`);
      rect.addEventListener("mouseenter", tip);
      rect.addEventListener("focus", tip);
      rect.addEventListener("mouseleave", hideTip);
      rect.addEventListener("blur", hideTip);
      rect.addEventListener("click", () => select(i));
      overlay.append(rect);
    }
  });
  // Field boxes go on top: every one in the "Fields" view, else those lit from the list.
  drawFieldBoxes(overlay, shownPage, mode === "fields");
}

// Selecting a line marks its boxes and its text, whichever was clicked.
function select(i) {
  const line = current && current.ocrLines ? current.ocrLines[i] : null;
  if (line && (line.page || 1) !== shownPage) showPage(line.page || 1);
  for (const node of document.querySelectorAll("#overlay .on, #text .on")) node.classList.remove("on");
  for (const node of document.querySelectorAll(`#overlay [data-line="${i}"], #text [data-line="${i}"]`)) node.classList.add("on");
  document.querySelector(`#text [data-line="${i}"]`)?.scrollIntoView({ block: "nearest" });
}

for (const radio of document.querySelectorAll("input[name=boxes]")) radio.addEventListener("change", drawBoxes);

$("delete").addEventListener("click", () => {
  if (!current) return;
  $("confirm-name").textContent = current.fileName;
  // Esc closes the dialog without a value: the answer of a previous question must not count.
  $("confirm-delete").returnValue = "";
  $("confirm-delete").showModal();
});

$("confirm-delete").addEventListener("close", async () => {
  if ($("confirm-delete").returnValue !== "delete" || !current) return;
  const id = current.imageId;
  try {
    await api(`/images/${id}`, { method: "DELETE" });
    library.items.get(id)?.node.remove();
    library.items.delete(id);
    summarize();
    location.hash = "#/";
  } catch (e) {
    $("detail-name").textContent = `Not deleted: ${e.code}: ${e.message}`;
  }
});

show();
