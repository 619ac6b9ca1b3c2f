// The accounts page: list, create, change, disable and enable accounts, and sign one out
// everywhere, through /api/v1/accounts.
// The API decides who may do what; this page only hides what the signed-in role cannot use.
"use strict";

(function () {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const me = meta("me");
  const isAdmin = meta("is-admin") === "yes";
  const body = document.querySelector("#accounts tbody");
  const editor = document.getElementById("editor");
  const notice = document.getElementById("notice");
  let editing = null; // the login being changed, or null for a new account

  const api = (method, path, data) =>  // ivr/static/shared/api.js
    window.ivr.api.request(method, `/accounts${path}`, data);

  function say(text, bad) {
    notice.textContent = text;
    notice.classList.toggle("bad", Boolean(bad));
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function button(label, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-quiet";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  function render(list) {
    body.replaceChildren();
    for (const a of list) {
      const row = document.createElement("tr");
      row.dataset.login = a.login;
      row.classList.toggle("disabled", !a.active);
      cell(row, a.login);
      cell(row, a.name);
      cell(row, a.roles.join(", "));
      cell(row, a.skills.join(" "));
      cell(row, a.contact);
      cell(row, a.active ? "active" : "disabled");
      const actions = cell(row, "");
      actions.className = "actions";
      const supervisorMay = a.roles.includes("call-taker") && !a.roles.includes("admin");
      if (isAdmin || supervisorMay) actions.appendChild(button("Change", () => open(a)));
      if (isAdmin && a.login !== me) {
        actions.appendChild(button(a.active ? "Disable" : "Enable", () => toggle(a)));
      }
      if (isAdmin && a.active) {
        actions.appendChild(button("Sign out everywhere", () => signOutEverywhere(a)));
      }
      body.appendChild(row);
    }
  }

  async function load() {
    try {
      render((await api("GET", "")).accounts);
    } catch (err) {
      say(err.message, true);
    }
  }

  function open(a) {
    editing = a ? a.login : null;
    editor.hidden = false;
    editor.reset();
    document.getElementById("editor-title").textContent = a ? `Change ${a.login}` : "New account";
    const f = editor.elements;
    f.login.value = a ? a.login : "";
    f.login.disabled = Boolean(a);
    f.name.value = a ? a.name : "";
    // Configured lines and languages are boxes to tick; any other skill stays text.
    const boxes = [...editor.querySelectorAll('input[name="skill"]')];
    const offered = new Set(boxes.map((b) => b.value));
    const has = a ? a.skills : [boxes.find((b) => b.value.startsWith("line:")),
                                boxes.find((b) => b.value.startsWith("lang:"))]
      .filter(Boolean).map((b) => b.value);
    for (const box of boxes) box.checked = has.includes(box.value);
    f.skills.value = has.filter((s) => !offered.has(s)).join(" ");
    f.contact.value = a ? a.contact : "";
    f.password.required = !a;
    f.password.placeholder = a ? "leave empty to keep it" : "at least 10 characters";
    for (const box of editor.querySelectorAll('input[name="roles"]')) {
      box.checked = a ? a.roles.includes(box.value) : box.value === "call-taker";
    }
    // a supervisor changes skills only
    for (const name of ["name", "contact", "password"]) f[name].disabled = !isAdmin;
    for (const box of editor.querySelectorAll('input[name="roles"]')) box.disabled = !isAdmin;
    (a ? (isAdmin ? f.name : f.skills) : f.login).focus();
  }

  async function save(event) {
    event.preventDefault();
    const f = editor.elements;
    const ticked = [...editor.querySelectorAll('input[name="skill"]:checked')].map((b) => b.value);
    const typed = f.skills.value.split(/\s+/).filter(Boolean);
    const data = { skills: [...new Set([...ticked, ...typed])] };
    if (isAdmin) {
      data.name = f.name.value;
      data.roles = [...editor.querySelectorAll('input[name="roles"]:checked')].map((b) => b.value);
      if (f.contact.value.trim()) data.contact = f.contact.value;
      if (f.password.value) data.password = f.password.value;
    }
    try {
      if (editing) {
        await api("PATCH", `/${encodeURIComponent(editing)}`, data);
        say(`Saved ${editing}.`);
      } else {
        data.login = f.login.value;
        const made = await api("POST", "", data);
        say(`Created ${made.login}.`);
      }
      editor.hidden = true;
      await load();
    } catch (err) {
      say(err.message, true);
    }
  }

  async function toggle(a) {
    const verb = a.active ? "disable" : "enable";
    if (a.active && !window.confirm(`Disable ${a.login}? They are signed out at once.`)) return;
    try {
      await api("POST", `/${encodeURIComponent(a.login)}/${verb}`);
      say(`${a.login} ${verb}d.`);
      await load();
    } catch (err) {
      say(err.message, true);
    }
  }

  async function signOutEverywhere(a) {
    if (!window.confirm(`Sign ${a.login} out of every browser? They can sign in again.`)) return;
    try {
      const done = await api("POST", `/${encodeURIComponent(a.login)}/sign-out`);
      const n = done.sessions_ended;
      say(`${a.login} signed out everywhere (${n} session${n === 1 ? "" : "s"} ended).`);
      if (a.login === me) window.location.assign("/console/login?out=1");
    } catch (err) {
      say(err.message, true);
    }
  }

  editor.addEventListener("submit", save);
  document.getElementById("btn-cancel").addEventListener("click", () => { editor.hidden = true; });
  const add = document.getElementById("btn-new");
  if (add) add.addEventListener("click", () => open(null));
  load();
})();
