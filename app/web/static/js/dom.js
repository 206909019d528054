// DOM helpers: elements are built, never parsed from strings (no user text becomes markup).

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export function show(view, title) {
  const main = document.getElementById("main");
  main.replaceChildren(view);
  document.title = `${title} · reelforge`;
  main.focus({ preventScroll: true });
}

let quiet = null;

export function announce(message) {
  const status = document.getElementById("status");
  status.textContent = "";
  window.clearTimeout(quiet);
  window.setTimeout(() => { status.textContent = message; }, 50);
  quiet = window.setTimeout(() => { status.textContent = ""; }, 6000);
}

let fieldIds = 0;

// A labelled input with its own error line, announced and linked by aria-describedby.
export function field(label, input, hint) {
  const id = input.id || `f${++fieldIds}`;
  input.id = id;
  const error = h("p", { class: "error", id: `${id}-error`, hidden: true });
  const help = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  input.setAttribute("aria-describedby", [help && help.id, error.id].filter(Boolean).join(" "));
  const wrapper = h("div", { class: "field" }, h("label", { for: id }, label), input, help, error);
  wrapper.showError = (message) => {
    error.textContent = message || "";
    error.hidden = !message;
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  return wrapper;
}

export function formError() {
  const el = h("p", { class: "error form-error", role: "alert", hidden: true });
  el.say = (message) => { el.textContent = message || ""; el.hidden = !message; };
  return el;
}

export function bytes(n) {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} B`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

const loaded = new Map();

// A vendored script (app/web/static/vendor), loaded once, only by the pages that use it.
export function loadScript(src) {
  if (!loaded.has(src)) {
    loaded.set(src, new Promise((resolve, reject) => {
      const script = h("script", { src });
      script.addEventListener("load", resolve);
      script.addEventListener("error", () => reject(new Error(`could not load ${src}`)));
      document.head.append(script);
    }));
  }
  return loaded.get(src);
}
