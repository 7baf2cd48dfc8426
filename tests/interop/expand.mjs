// Expands calendars with Mozilla's ical.js (Thunderbird's parser), for the interop tests.
//
// stdin: a JSON array of jobs {id, ics, start, end, details} (start/end: epoch milliseconds).
// stdout: a JSON object id -> {uid: [epoch milliseconds of each occurrence's start in
// [start, end)]}, or with details id -> {uid: [[milliseconds, summary, alarms], ...]}, where
// instance overrides (RECURRENCE-ID) replace their occurrence as Thunderbird shows it; or
// id -> {"error": message}. One process serves every job, so node starts once per test run.
import ICAL from "ical.js";
import { readFileSync } from "node:fs";

const jobs = JSON.parse(readFileSync(0, "utf8"));
const out = {};
for (const job of jobs) {
  try {
    out[job.id] = job.details ? expandDetails(job) : expand(job);
  } catch (error) {
    out[job.id] = { error: String(error && error.stack ? error.stack : error) };
  }
}
process.stdout.write(JSON.stringify(out));

function expand({ ics, start, end }) {
  const calendar = new ICAL.Component(ICAL.parse(ics));
  // As Thunderbird does: the calendar's own VTIMEZONEs define its TZIDs (ical.js knows no
  // zone database of its own).
  for (const zone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(zone);
  }
  const found = {};
  for (const vevent of calendar.getAllSubcomponents("vevent")) {
    const event = new ICAL.Event(vevent);
    const times = (found[event.uid] ??= []);
    const iterator = event.iterator();
    for (let next = iterator.next(); next; next = iterator.next()) {
      const at = next.toJSDate().getTime();
      if (at >= end) break;
      if (at >= start) times.push(at);
    }
  }
  for (const zone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.remove(zone.getFirstPropertyValue("tzid"));
  }
  return found;
}

function expandDetails({ ics, start, end }) {
  const calendar = new ICAL.Component(ICAL.parse(ics));
  for (const zone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(zone);
  }
  const series = new Map();
  const overrides = [];
  for (const vevent of calendar.getAllSubcomponents("vevent")) {
    if (vevent.hasProperty("recurrence-id")) overrides.push(vevent);
    else series.set(vevent.getFirstPropertyValue("uid"), new ICAL.Event(vevent));
  }
  for (const vevent of overrides) {
    const master = series.get(vevent.getFirstPropertyValue("uid"));
    if (!master) throw new Error("an override of no event: " + vevent.toString());
    master.relateException(vevent);
  }
  const found = {};
  for (const [uid, event] of series) {
    const rows = (found[uid] ??= []);
    const add = (item, startDate) => {
      const at = startDate.toJSDate().getTime();
      if (at >= start && at < end) {
        rows.push([at, item.summary, item.component.getAllSubcomponents("valarm").length]);
      }
    };
    if (!event.isRecurring()) {
      add(event, event.startDate);
      continue;
    }
    const iterator = event.iterator();
    for (let next = iterator.next(); next; next = iterator.next()) {
      const details = event.getOccurrenceDetails(next);
      if (details.startDate.toJSDate().getTime() >= end) break;
      add(details.item, details.startDate);
    }
  }
  for (const zone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.remove(zone.getFirstPropertyValue("tzid"));
  }
  return found;
}
