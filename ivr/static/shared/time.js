// Times on every page in the center's time zone (<meta name="timezone">, from config), never
// the browser's: a supervisor at home and a wall screen in the center read the same clock.
"use strict";

window.ivr = window.ivr || {};
window.ivr.time = (() => {
  const tag = document.querySelector('meta[name="timezone"]');
  const zone = (tag && tag.content) || "UTC";
  const formats = {};

  function format(name, options) {
    if (!formats[name]) formats[name] = new Intl.DateTimeFormat("en-US", { timeZone: zone, ...options });
    return formats[name];
  }

  function shown(name, options) {
    return (at) => {
      if (at === null || at === undefined || at === "") return "";
      const when = typeof at === "number" ? new Date(at * 1000) : new Date(at);
      return Number.isNaN(when.getTime()) ? "" : format(name, options).format(when);
    };
  }

  return {
    zone,
    time: shown("time", { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }),
    timeZoned: shown("timeZoned", { hour: "2-digit", minute: "2-digit", second: "2-digit",
                                    hourCycle: "h23", timeZoneName: "short" }),
    hm: shown("hm", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }),
    date: shown("date", { year: "numeric", month: "short", day: "numeric" }),
    dateTime: shown("dateTime", { year: "numeric", month: "short", day: "numeric", hour: "2-digit",
                                  minute: "2-digit", hourCycle: "h23", timeZoneName: "short" }),
  };
})();
