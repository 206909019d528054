// Upload: a resumable tus upload (tus-js-client) with progress, speed and time left. Picking the
// same file again after a dropped network or a closed tab resumes from the server's offset.
import { ApiError, api, csrfHeaders } from "./api.js";
import { announce, bytes, duration, field, formError, h, loadScript, show } from "./dom.js";

// One PATCH for the whole file, as the CLI sends it: the server keeps every byte it received,
// so a cut PATCH resumes where its bytes stopped (HEAD), not at a chunk boundary; and one
// streamed request per file is what makes the page as fast as the CLI (docs/BENCHMARKS.md).
const CHUNK_BYTES = Infinity;

async function detailOf(error) {
  const response = error && error.originalResponse;
  if (!response) return navigator.onLine ? String(error.message || error) : "You are offline: pick the same file again to resume";
  let detail = `${response.getStatus()}`;
  try { detail = JSON.parse(response.getBody()).detail || detail; } catch { /* keep the status */ }
  const wait = response.getHeader("Retry-After");
  if (response.getStatus() === 429 && wait) detail = `${detail} (try again in ${wait} s)`;
  return detail;
}

function profilePicker(profiles) {
  const select = h("select", { name: "profile", id: "in-profile" },
    profiles.map((p) => h("option", { value: p.name, selected: p.default }, `${p.name} — ${p.definition.description}`)));
  return field("Output", select, "What the workers make from your video");
}

export async function uploadView() {
  await loadScript("/app/vendor/tus.min.js");
  let profiles = [];
  try { profiles = (await api("GET", "/api/profiles")).body; } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  }
  const fileInput = h("input", { type: "file", name: "file", id: "in-file", accept: "video/*,.mp4,.mov,.mkv,.webm,.avi", required: true });
  const title = h("input", { type: "text", name: "title", id: "in-title", required: true, maxlength: 255 });
  const fileField = field("Video file", fileInput, "Or drop a file on this box");
  const titleField = field("Title", title);
  const problem = formError();
  const bar = h("progress", { max: 100, value: 0, "aria-label": "Upload progress" });
  const figures = h("p", { class: "figures", "aria-live": "polite" });
  const done = h("p", { class: "done", hidden: true });
  const send = h("button", { type: "submit" }, "Upload");
  const pause = h("button", { type: "button", class: "secondary", hidden: true }, "Pause");
  const drop = h("div", { class: "drop" }, fileField);
  const form = h("form", { class: "card", novalidate: true, "data-state": "idle" },
    h("h1", {}, "Upload a video"), drop, titleField, profiles.length ? profilePicker(profiles) : null,
    problem, h("div", { class: "actions" }, send, pause), bar, figures, done);

  for (const name of ["dragenter", "dragover"]) drop.addEventListener(name, (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) { fileInput.files = e.dataTransfer.files; fileInput.dispatchEvent(new Event("change")); }
  });
  fileInput.addEventListener("change", () => {
    const file = fileInput.files[0];
    if (file && !title.value) title.value = file.name.replace(/\.[^.]+$/, "");
  });

  let upload = null;
  pause.addEventListener("click", () => {
    if (form.dataset.state === "uploading") { upload.abort(); form.dataset.state = "paused"; pause.textContent = "Resume"; announce("Paused"); }
    else { upload.start(); form.dataset.state = "uploading"; pause.textContent = "Pause"; }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.say(""); fileField.showError(""); titleField.showError("");
    const file = fileInput.files[0];
    if (!file) { fileField.showError("Pick a video file"); fileInput.focus(); return; }
    if (!title.value.trim()) { titleField.showError("Give the video a title"); title.focus(); return; }
    const profile = form.elements.profile ? form.elements.profile.value : "reel";
    const clicked = performance.now();
    let started = clicked;
    let base = 0;
    let videoId = null;
    upload = new window.tus.Upload(file, {
      endpoint: "/api/uploads",
      chunkSize: CHUNK_BYTES,
      retryDelays: [0, 1000, 3000, 5000],
      removeFingerprintOnSuccess: true,
      headers: csrfHeaders(),
      metadata: { title: title.value.trim(), profile, filename: file.name, filetype: file.type || "video/mp4" },
      onAfterResponse: (_req, res) => { videoId = res.getHeader("X-Video-ID") || videoId; },
      onProgress: (sent, total) => {
        if (base === null) { base = sent; started = performance.now(); }
        const seconds = (performance.now() - started) / 1000;
        const speed = seconds > 0.2 ? (sent - base) / seconds : 0;
        bar.value = Math.floor((sent / total) * 100);
        form.dataset.sent = String(sent);
        figures.textContent = `${bytes(sent)} of ${bytes(total)}` +
          (speed ? ` · ${bytes(speed)}/s · ${duration((total - sent) / speed)} left` : "");
      },
      onError: async (error) => {
        form.dataset.state = "error";
        pause.hidden = true;
        send.disabled = false;
        problem.say(await detailOf(error));
        problem.focus?.();
      },
      onSuccess: () => {
        form.dataset.state = "done";
        form.dataset.videoId = videoId || "";
        form.dataset.seconds = ((performance.now() - clicked) / 1000).toFixed(3);
        pause.hidden = true;
        send.disabled = false;
        bar.value = 100;
        done.hidden = false;
        done.replaceChildren("Uploaded: it is queued for processing. ",
          h("a", { href: "#/videos" }, "Follow it in My videos"));
        announce("Upload complete");
      },
    });
    const previous = await upload.findPreviousUploads();
    if (previous.length) {
      upload.resumeFromPreviousUpload(previous[0]);
      announce("Resuming the upload where the server left it");
    }
    base = null; // the first progress report after (re)starting is the server's offset
    form.dataset.state = "uploading";
    send.disabled = true;
    pause.hidden = false;
    pause.textContent = "Pause";
    upload.start();
  });

  show(form, "Upload");
  return null; // an upload in progress goes on when the user looks at another page
}
