// My videos: each row follows its job live over Server-Sent Events (/api/videos/{id}/events) —
// status, progress, place in line, ETA — with no polling while a stream is up.
import { ApiError, api } from "./api.js";
import { announce, duration, h, show } from "./dom.js";

const TERMINAL = new Set(["processed", "failed"]);
const MAX_STREAMS = 4; // browsers allow 6 connections per host over HTTP/1.1: leave room for the rest
const PAGE = 20;

function standing(video) {
  if (video.status === "queued" && video.retry_at) return `retrying at ${new Date(video.retry_at).toLocaleTimeString()}`;
  const parts = [];
  if (video.queue_position) parts.push(`#${video.queue_position} in line`);
  if (video.status === "processing") parts.push(`${video.progress}%`);
  if (video.eta_seconds !== null && video.eta_seconds !== undefined) parts.push(`about ${duration(video.eta_seconds)} left`);
  return parts.join(" · ");
}

function row(video, refresh) {
  const status = h("span", { class: `badge ${video.status}`, "data-status": video.status }, video.status);
  const bar = h("progress", { max: 100, value: video.progress, "aria-label": `Progress of ${video.title}` });
  const info = h("p", { class: "standing" }, standing(video));
  const reason = video.status === "failed" && video.error ? h("p", { class: "error reason" }, video.error) : null;
  const thumb = video.thumbnail_url && video.status === "processed"
    ? h("img", { src: video.thumbnail_url, alt: "", class: "thumb", loading: "lazy", width: 160, height: 90 })
    : h("div", { class: "thumb placeholder", "aria-hidden": "true" });
  const actions = h("div", { class: "actions" });
  if (video.status === "processed") {
    actions.append(h("a", { href: `#/watch/${video.video_id}`, class: "button" }, "Watch"));
    if (!video.published) {
      actions.append(h("button", { type: "button", onclick: () => act("POST", `/api/videos/${video.video_id}/publish`, "Published", refresh) }, "Publish"));
    } else actions.append(h("span", { class: "badge published" }, "public"));
  }
  if (!video.published) {
    actions.append(h("button", { type: "button", class: "secondary", onclick: () => {
      if (window.confirm(`Delete "${video.title}"?`)) act("DELETE", `/api/videos/${video.video_id}`, "Deleted", refresh);
    } }, "Delete"));
  }
  const li = h("li", { class: "video", "data-video-id": video.video_id }, thumb,
    h("div", { class: "body" }, h("h2", {}, video.title), h("p", {}, status, " ", h("span", { class: "profile" }, video.profile)),
      bar, info, reason, actions));
  li.update = (state) => {
    Object.assign(video, state);
    status.textContent = video.status;
    status.className = `badge ${video.status}`;
    status.dataset.status = video.status;
    bar.value = video.progress;
    info.textContent = standing(video);
  };
  return li;
}

async function act(method, path, done, refresh) {
  try {
    await api(method, path);
    announce(done);
    refresh();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    announce(error.message);
  }
}

export async function videosView() {
  const list = h("ul", { class: "videos", "aria-live": "off" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show more");
  const empty = h("p", { hidden: true }, "No videos yet. ", h("a", { href: "#/upload" }, "Upload one"));
  const section = h("section", { class: "card" }, h("h1", {}, "My videos"), empty, list, more);
  const streams = new Map();
  let shown = PAGE;

  function follow(video, li) {
    if (TERMINAL.has(video.status) || streams.size >= MAX_STREAMS) return;
    const source = new EventSource(`/api/videos/${video.video_id}/events`);
    streams.set(video.video_id, source);
    source.onmessage = async (message) => {
      const state = JSON.parse(message.data);
      li.update(state);
      if (TERMINAL.has(state.status)) {
        source.close();
        streams.delete(video.video_id);
        announce(`${video.title}: ${state.status}`);
        load(); // the finished row gains its thumbnail, reason and actions
      }
    };
  }

  let timer = null;
  async function load() {
    window.clearTimeout(timer);
    const { body, headers } = await api("GET", "/api/videos", { query: { limit: shown } });
    for (const source of streams.values()) source.close();
    streams.clear();
    list.replaceChildren();
    for (const video of body) {
      const li = row(video, load);
      list.append(li);
      follow(video, li);
    }
    empty.hidden = body.length > 0;
    more.hidden = Number(headers.get("X-Total-Count") || 0) <= body.length;
    // Rows beyond the streams' budget are refreshed now and then; streamed rows never poll.
    if (body.some((v) => !TERMINAL.has(v.status) && !streams.has(v.video_id))) timer = window.setTimeout(load, 10000);
  }
  more.addEventListener("click", () => { shown += PAGE; load(); });
  show(section, "My videos");
  await load();
  return () => { window.clearTimeout(timer); for (const source of streams.values()) source.close(); };
}
