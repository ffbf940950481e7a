// Handoffs: an end-of-session list of what was done, what is next and what is blocked.
#include "bespoke/task/encoding/samples/sample.h"

namespace bespoke::task::encoding::samples {
namespace {

Sample handoff(Rng& r) {
  const std::string repo = r.pick(std::vector<std::string>{"ledger", "field-notes", "billing"});
  const std::string when = expand(r, "{2022-2025}-0{1-9}-{10-28}");
  const std::vector<std::string> people = r.sample(kPeople, 2);
  const std::string outage_month = r.pick(kMonths), outage = expand(r, "{2-28} ") + outage_month;
  const std::string done_pool[] = {
      "migrated the sessions table (internal/store/migrations/00" + num(r, 10, 99) + "_sessions.sql)",
      "fixed the flaky TestReplayOrder", "cut " + version(r) + " and tagged it",
      "moved search pagination to cursors in internal/api/search.go"};
  const std::string next_pool[] = {
      "wire the new index into ServeSearch", "backfill " + big(r, 10000, 90000) + " rows of embeddings",
      "profile compactSegments under load", "write the postmortem for the " + outage + " outage"};
  const std::string blocker_pool[] = {
      "staging DB still on PostgreSQL 14." + num(r, 2, 9) + ", needs " + people[1] + " to approve the upgrade",
      "CI runners out of disk (" + num(r, 90, 99) + "% used)", "waiting on the vendor API key from " + people[1]};
  const std::vector<size_t> done = r.sample(std::vector<size_t>{0, 1, 2, 3}, 2),
                            next = r.sample(std::vector<size_t>{0, 1, 2, 3}, 2);
  const size_t blocker = r.below(3);
  Sample s;
  s.input = "Handoff " + when + ", " + repo + "\nDone:\n- " + done_pool[done[0]] + ".\n- " + done_pool[done[1]] +
            ".\nNext:\n- " + next_pool[next[0]] + ".\n- " + next_pool[next[1]] + ".\nBlockers:\n- " +
            blocker_pool[blocker] + ".";
  s.gist = "Handoff for " + repo + ", " + when;
  s.summary = "Done: " + done_pool[done[0]] + "; " + done_pool[done[1]] + ". Next: " + next_pool[next[0]] +
              ". Blocker: " + blocker_pool[blocker] + ".";
  s.narrative = "An end-of-session handoff listing finished work, next steps and one blocker.";
  s.concepts = {"handoff", "status", "planning"};
  s.topic("handoff", "team/handoff");
  if (blocker != 1) s.entity(people[1], "person", "needed to unblock");
  s.action("completed", done_pool[done[0]], "done");
  s.action("completed", done_pool[done[1]], "done");
  s.action("planned", next_pool[next[0]], "next");
  s.action("planned", next_pool[next[1]], "next");
  s.cause("blocked_by", blocker_pool[blocker]);
  s.enums("important", "neutral", "ongoing", int(r.between(65, 75)));
  return s;
}

}  // namespace

const std::vector<Template>& handoff_templates() {
  static const std::vector<Template> templates = {handoff};
  return templates;
}

}  // namespace bespoke::task::encoding::samples
