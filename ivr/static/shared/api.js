// One way for every console page to reach the JSON API under /api/v1: the session's cookie,
// the CSRF token of the page's <meta name="csrf-token"> on every change, JSON in and out, a
// signed-out session sent back to the sign-in page, and each refusal as the API words it.
// Loaded before the page's own script: `ivr.api.request` throws an Error carrying the API's
// `code` and `status`; `ivr.api.reply` answers {ok, status, data} for pages that show a refusal
// in place (the flow editor's problems, a draft conflict).
"use strict";

window.ivr = window.ivr || {};
window.ivr.api = (() => {
  const BASE = "/api/v1";

  function csrf() {
    const tag = document.querySelector('meta[name="csrf-token"]');
    return tag ? tag.content : "";
  }

  async function reply(method, path, body) {
    const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET" && method !== "HEAD") {
      options.headers["X-CSRF-Token"] = csrf();
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body === undefined ? {} : body);
    }
    const response = await fetch(BASE + path, options);
    if (response.status === 401) window.location.assign("/console/login");
    const type = response.headers.get("Content-Type") || "";
    let data = null;
    try {
      data = type.includes("json") ? await response.json() : await response.text();
    } catch (_) {
      data = null;
    }
    return { ok: response.ok, status: response.status, data };
  }

  async function request(method, path, body) {
    const answer = await reply(method, path, body);
    if (!answer.ok) {
      const error = (answer.data && answer.data.error) ||
        { code: `http_${answer.status}`, message: `error ${answer.status}` };
      const failure = new Error(error.message || `error ${answer.status}`);
      failure.code = error.code;
      failure.status = answer.status;
      failure.details = error;
      throw failure;
    }
    return answer.data;
  }

  return { request, reply, csrf };
})();
