// The page's routes (#/…), the header's signed-in state, and where each view lives.
import { logOut, onSessionChange, restoreSession, session } from "./api.js";
import { announce } from "./dom.js";
import { loginView, signupView } from "./account.js";
import { uploadView } from "./upload.js";
import { videosView } from "./videos.js";
import { watchView } from "./watch.js";
import { galleryView, rankingsView } from "./public.js";

const routes = [
  [/^#\/login$/, () => loginView()],
  [/^#\/signup$/, () => signupView()],
  [/^#\/upload$/, () => signedIn(uploadView)],
  [/^#\/videos$/, () => signedIn(videosView)],
  [/^#\/watch\/(\d+)$/, (m) => watchView(Number(m[1]))],
  [/^#\/rankings$/, () => rankingsView()],
  [/^#\/public$/, () => galleryView()],
];

let leave = null; // what the current view closes (event streams, players) when the route changes

function signedIn(view) {
  if (session.user) return view();
  location.hash = "#/login";
  return null;
}

async function route() {
  if (leave) { leave(); leave = null; }
  const hash = location.hash || "#/public";
  for (const [pattern, view] of routes) {
    const match = hash.match(pattern);
    if (match) {
      leave = (await view(match)) || null;
      return;
    }
  }
  location.hash = "#/public";
}

function paintHeader() {
  const signed = Boolean(session.user);
  for (const el of document.querySelectorAll("[data-when]")) {
    el.hidden = (el.dataset.when === "in") !== signed;
  }
  document.getElementById("who").textContent = signed
    ? `Signed in as ${session.user.first_name} ${session.user.last_name}` : "";
}

document.getElementById("logout").addEventListener("click", async () => {
  await logOut();
  announce("Logged out");
  location.hash = "#/public";
});

onSessionChange(paintHeader);
window.addEventListener("hashchange", route);
await restoreSession();
paintHeader();
await route();
// The browser tests wait for this; the benchmark reads the time to interactive from it.
document.documentElement.dataset.readyAt = String(Math.round(performance.now()));
document.documentElement.dataset.ready = "true";
