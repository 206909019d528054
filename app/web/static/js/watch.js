// Watch: hls.js for an `hls` output (adaptive, with a quality menu), the MP4 otherwise; the
// storyboard's thumbnails over the seek bar; the thumbnail as poster. The owner's detail gives
// signed playback links; anyone else plays only what the public gallery lists.
import { ApiError, api } from "./api.js";
import { h, loadScript, show } from "./dom.js";
import { publicVideo } from "./public.js";

async function storyboard(url) {
  const text = await (await fetch(url)).text();
  const cues = [];
  const time = (t) => t.split(":").reduce((sum, part) => sum * 60 + Number(part), 0);
  for (const block of text.split(/\r?\n\r?\n/)) {
    const match = block.match(/([\d:.]+)\s+-->\s+([\d:.]+)\s*\r?\n(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)/);
    if (match) {
      const [, start, end, image, x, y, w, hgt] = match;
      cues.push({ start: time(start), end: time(end), image: new URL(image, new URL(url, location.href)).href, x: +x, y: +y, w: +w, h: +hgt });
    }
  }
  return cues;
}

function seekBar(video, cues) {
  const range = h("input", { type: "range", min: 0, max: 1000, value: 0, step: 1, class: "seek", "aria-label": "Seek" });
  const tip = h("div", { class: "tip", hidden: true, "aria-hidden": "true" });
  video.addEventListener("timeupdate", () => {
    if (video.duration) range.value = String(Math.round((video.currentTime / video.duration) * 1000));
  });
  range.addEventListener("input", () => { if (video.duration) video.currentTime = (range.value / 1000) * video.duration; });
  range.addEventListener("mousemove", (event) => {
    if (!cues.length || !video.duration) return;
    const box = range.getBoundingClientRect();
    const at = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)) * video.duration;
    const cue = cues.find((c) => at >= c.start && at < c.end) || cues[cues.length - 1];
    tip.hidden = false;
    tip.style.width = `${cue.w}px`;
    tip.style.height = `${cue.h}px`;
    tip.style.backgroundImage = `url("${cue.image}")`;
    tip.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
    tip.style.left = `${Math.min(box.width - cue.w, Math.max(0, event.clientX - box.left - cue.w / 2))}px`;
  });
  range.addEventListener("mouseleave", () => { tip.hidden = true; });
  return h("div", { class: "scrub" }, tip, range);
}

async function attachHls(video, master, menu) {
  await loadScript("/app/vendor/hls.min.js");
  const Hls = window.Hls;
  if (!Hls.isSupported()) { video.src = master; return () => {}; } // Safari plays HLS natively
  const hls = new Hls({ capLevelToPlayerSize: true });
  hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => {
    menu.replaceChildren(h("option", { value: -1 }, "Auto"),
      ...data.levels.map((level, index) => h("option", { value: index }, `${level.height}p`)));
    menu.disabled = false;
  });
  hls.on(Hls.Events.ERROR, (_event, data) => { if (data.fatal) video.dataset.error = data.details; });
  menu.addEventListener("change", () => { hls.currentLevel = Number(menu.value); });
  hls.loadSource(master);
  hls.attachMedia(video);
  return () => hls.destroy();
}

export async function watchView(id) {
  let video;
  try {
    video = (await api("GET", `/api/videos/${id}`)).body;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    video = publicVideo(id); // a published video seen in the gallery
    if (!video) {
      show(h("section", { class: "card" }, h("h1", {}, "Not available"),
        h("p", { role: "alert", class: "error" }, error.status === 401
          ? "Log in to watch your videos." : "This video is private or does not exist.")), "Not available");
      return null;
    }
  }
  const outputs = video.outputs || [];
  const poster = (outputs.find((o) => o.kind === "thumbnail") || {}).url || video.thumbnail_url;
  const player = h("video", { controls: true, playsinline: true, preload: "metadata", poster, class: "player", "aria-label": video.title });
  const menu = h("select", { id: "quality", disabled: true }, h("option", { value: -1 }, "Auto"));
  const isHls = video.profile === "hls" || /\.m3u8($|\?)/.test(video.processed_url || "");
  const section = h("section", { class: "card watch" }, h("h1", {}, video.title), player);
  let stop = () => {};
  if (!video.processed_url) {
    section.append(h("p", { role: "alert" }, `This video is ${video.status}: there is nothing to play yet.`));
  } else if (isHls) {
    stop = await attachHls(player, video.processed_url, menu);
    section.append(h("p", { class: "quality" }, h("label", { for: "quality" }, "Quality "), menu));
  } else {
    player.src = video.processed_url;
  }
  const track = outputs.find((o) => o.kind === "storyboard");
  if (track && video.processed_url) section.insertBefore(seekBar(player, await storyboard(track.url).catch(() => [])), player.nextSibling);
  if (video.owner_name) section.append(h("p", {}, `By ${video.owner_name}${video.owner_city ? `, ${video.owner_city}` : ""} · ${video.votes} votes`));
  show(section, video.title);
  return () => { stop(); player.removeAttribute("src"); player.load(); };
}
