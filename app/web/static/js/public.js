// Public: the gallery of published videos (paged by cursor; the animated preview on hover or
// focus), one vote per user, and the rankings by city.
import { ApiError, api, session } from "./api.js";
import { announce, field, h, show } from "./dom.js";

const PAGE = 12;
const seen = new Map(); // gallery items by id, for the watch page of a video one does not own

export function publicVideo(id) { return seen.get(id) || null; }

function card(video) {
  const still = video.thumbnail_url;
  const img = h("img", { src: still, alt: `Thumbnail of ${video.title}`, class: "thumb", loading: "lazy", width: 320, height: 180 });
  const moving = (on) => { if (video.preview_url) img.src = on ? video.preview_url : still; };
  const votes = h("span", { class: "votes" }, `${video.votes} votes`);
  const message = h("p", { class: "vote-message", role: "status" });
  const vote = h("button", { type: "button", "aria-label": `Vote for ${video.title}` }, "Vote");
  vote.addEventListener("click", async () => {
    if (!session.user) { location.hash = "#/login"; return; }
    try {
      const { body } = await api("POST", `/api/public/videos/${video.video_id}/vote`);
      video.votes += 1;
      votes.textContent = `${video.votes} votes`;
      message.textContent = body.message;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      message.textContent = error.message;
      message.classList.add("error");
    }
  });
  const link = h("a", { href: `#/watch/${video.video_id}`, class: "play",
    onmouseenter: () => moving(true), onmouseleave: () => moving(false),
    onfocus: () => moving(true), onblur: () => moving(false) }, img, h("span", { class: "title" }, video.title));
  return h("li", { class: "tile", "data-video-id": video.video_id }, link,
    h("p", { class: "by" }, `${video.owner_name}${video.owner_city ? ` · ${video.owner_city}` : ""}`),
    h("p", { class: "actions" }, votes, " ", vote), message);
}

export async function galleryView() {
  const grid = h("ul", { class: "gallery" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "More videos");
  const count = h("p", { class: "count" });
  const section = h("section", { class: "card" }, h("h1", {}, "Public videos"), count, grid, more);
  let cursor = null;
  async function page() {
    const query = { limit: PAGE };
    if (cursor) query.cursor = cursor;
    const { body, headers } = await api("GET", "/api/public/videos", { query });
    for (const video of body) {
      seen.set(video.video_id, video);
      grid.append(card(video));
    }
    cursor = headers.get("X-Next-Cursor");
    more.hidden = !cursor;
    const total = Number(headers.get("X-Total-Count") || 0);
    count.textContent = total ? `${total} published video${total === 1 ? "" : "s"}` : "Nothing published yet.";
  }
  more.addEventListener("click", async () => { await page(); announce("More videos loaded"); });
  show(section, "Public videos");
  await page();
  return null;
}

export async function rankingsView() {
  const city = h("input", { type: "search", name: "city", id: "in-city", maxlength: 100, autocomplete: "address-level2" });
  const body = h("tbody");
  const note = h("p", { role: "status" });
  const table = h("table", {}, h("caption", {}, "Players by votes on their published videos"),
    h("thead", {}, h("tr", {}, ["Position", "Player", "City", "Votes"].map((t) => h("th", { scope: "col" }, t)))), body);
  const form = h("form", { class: "inline", role: "search" }, field("City", city, "Empty: every city"),
    h("button", { type: "submit" }, "Show"));
  const section = h("section", { class: "card" }, h("h1", {}, "Rankings"), form, note, table);
  async function load() {
    const query = { limit: 50 };
    if (city.value.trim()) query.city = city.value.trim();
    try {
      const { body: entries } = await api("GET", "/api/public/rankings", { query });
      body.replaceChildren(...entries.map((e) => h("tr", {}, h("td", {}, String(e.position)),
        h("td", {}, e.username), h("td", {}, e.city || ""), h("td", {}, String(e.votes)))));
      note.textContent = entries.length ? "" : "No ranked players here yet.";
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      note.textContent = error.message;
    }
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  show(section, "Rankings");
  await load();
  return null;
}
