// Sign up and log in: the seed's fields, the API's messages next to the field they are about.
import { ApiError, api, logIn } from "./api.js";
import { announce, field, formError, h, show } from "./dom.js";

// Messages of a 400 that are about one field (the API's words, app/auth/service.py).
const FIELD_OF = { "Passwords do not match": "password2", "Email already registered": "email" };

function input(name, type = "text", extra = {}) {
  return h("input", { name, type, id: `in-${name}`, ...extra });
}

function form(title, fields, submitLabel, submit) {
  const problem = formError();
  const button = h("button", { type: "submit" }, submitLabel);
  const wrappers = Object.fromEntries(fields.map(([name, label, el, hint]) => [name, field(label, el, hint)]));
  const el = h("form", { class: "card narrow", novalidate: true }, h("h1", {}, title),
    ...Object.values(wrappers), problem, button);
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.say("");
    for (const w of Object.values(wrappers)) w.showError("");
    const values = Object.fromEntries(new FormData(el));
    button.disabled = true;
    try {
      await submit(values);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      let placed = false;
      for (const [name, message] of Object.entries(error.fields)) {
        if (wrappers[name]) { wrappers[name].showError(message); placed = true; }
      }
      const owner = FIELD_OF[error.message];
      if (owner && wrappers[owner]) { wrappers[owner].showError(error.message); placed = true; }
      if (!placed) problem.say(error.message);
      (el.querySelector("[aria-invalid=true]") || problem).focus?.();
    } finally {
      button.disabled = false;
    }
  });
  return el;
}

export function signupView() {
  const el = form("Sign up", [
    ["first_name", "First name", input("first_name", "text", { autocomplete: "given-name", required: true })],
    ["last_name", "Last name", input("last_name", "text", { autocomplete: "family-name", required: true })],
    ["email", "Email", input("email", "email", { autocomplete: "email", required: true })],
    ["password1", "Password", input("password1", "password", { autocomplete: "new-password", required: true }),
      "8 characters or more"],
    ["password2", "Password again", input("password2", "password", { autocomplete: "new-password", required: true })],
    ["city", "City", input("city", "text", { autocomplete: "address-level2" }), "Rankings are by city"],
    ["country", "Country", input("country", "text", { autocomplete: "country-name" })],
  ], "Create account", async (values) => {
    const body = { ...values, city: values.city || null, country: values.country || null };
    await api("POST", "/api/auth/signup", { json: body });
    await logIn(values.email, values.password1);
    announce("Account created: you are signed in");
    location.hash = "#/upload";
  });
  show(el, "Sign up");
}

export function loginView() {
  const el = form("Log in", [
    ["email", "Email", input("email", "email", { autocomplete: "username", required: true })],
    ["password", "Password", input("password", "password", { autocomplete: "current-password", required: true })],
  ], "Log in", async (values) => {
    await logIn(values.email, values.password);
    announce("Signed in");
    location.hash = "#/videos";
  });
  el.append(h("p", {}, "No account yet? ", h("a", { href: "#/signup" }, "Sign up")));
  show(el, "Log in");
}
