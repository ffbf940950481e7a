// Several people: stand-ups, reviews, incidents, rollbacks and pairing, each naming a few people.
#include "bespoke/task/encoding/samples/sample.h"

namespace bespoke::task::encoding::samples {
namespace {

Sample people_standup(Rng& r) {
  const std::vector<std::string> p = r.sample(kPeople, 3);
  const std::string test =
                        r.pick(std::vector<std::string>{"TestReplayOrder", "TestCursorResume", "TestEvictUnderLoad"}),
                    runs = num(r, 5, 30), release = version(r);
  Sample s;
  s.input = "Standup: " + p[0] + " finished the rate limiter in internal/api/limit.go; " + p[1] +
            " is still chasing the flaky " + test + ", which fails 1 run in " + runs + "; " + p[2] + " will cut " +
            release + " after lunch.";
  s.gist = fit({"Standup: " + p[0] + ", " + p[1] + " and " + p[2] + " updates", "Standup updates"});
  s.summary = p[0] + " finished the rate limiter in internal/api/limit.go, " + p[1] + " is chasing the flaky " + test +
              ", and " + p[2] + " will cut " + release + ".";
  s.narrative = "A daily standup covering three people's work.";
  s.concepts = {"standup", "release", "testing"};
  s.topic("team status", "team/standup");
  s.entity(p[0], "person", "finished the rate limiter");
  s.entity(p[1], "person", "chasing " + test);
  s.entity(p[2], "person", "cutting " + release);
  s.entity("internal/api/limit.go", "file", "rate limiter");
  s.action("finished", "rate limiter", p[0]);
  s.action("will cut", release, p[2]);
  s.enums("routine", "neutral", "ongoing", int(r.between(40, 52)));
  return s;
}

Sample people_review(Rng& r) {
  const std::vector<std::string> p = r.sample(kPeople, 3);
  const std::string pr = num(r, 300, 980), ttl = num(r, 10, 60);
  Sample s;
  s.input = p[0] + " opened PR #" + pr + " to move sessions to signed cookies. " + p[1] +
            " asked for a test around expiry, and " + p[2] + " approved once the TTL dropped to " + ttl + " minutes.";
  s.gist = fit({"PR #" + pr + ": sessions move to signed cookies", "PR #" + pr + " approved"});
  s.summary = p[0] + " opened PR #" + pr + " for signed-cookie sessions; " + p[1] + " asked for an expiry test and " +
              p[2] + " approved after the TTL went to " + ttl + " minutes.";
  s.narrative = "A code review with three participants and a requested change.";
  s.concepts = {"code review", "authentication", "sessions"};
  s.topic("code review", "team/code-review");
  s.entity(p[0], "person", "opened the PR");
  s.entity(p[1], "person", "asked for an expiry test");
  s.entity(p[2], "person", "approved");
  s.action("approved", "PR #" + pr, "TTL " + ttl + " minutes");
  s.cause("condition", "approval came once the TTL dropped to " + ttl + " minutes");
  s.enums("notable", "neutral", "success", int(r.between(45, 58)));
  return s;
}

Sample people_incident(Rng& r) {
  const std::vector<std::string> p = r.sample(kPeople, 3);
  const std::string service = r.pick(kServices), release = version(r);
  const int64_t minute = r.between(10, 40);
  const std::string paged = "02:" + std::to_string(minute),
                    recovered = "02:" + std::to_string(minute + r.between(9, 19));
  Sample s;
  s.type = "error";
  s.input = "At " + paged + " the pager woke " + p[0] + " because " + service + " was returning 5xx; " + p[0] +
            " rolled back to " + release + " by " + recovered + ". " + p[1] +
            " traced it to a bad migration the next morning and " + p[2] + " is writing the postmortem.";
  s.gist = fit({service + " 5xx incident, rolled back to " + release, service + " 5xx incident"});
  s.summary = p[0] + " was paged at " + paged + " for " + service + " 5xx errors and rolled back to " + release +
              " by " + recovered + "; " + p[1] + " traced it to a bad migration and " + p[2] +
              " is writing the postmortem.";
  s.narrative = "An overnight incident handled by three people in turn.";
  s.concepts = {"incident", "rollback", "on-call"};
  s.topic("incident", "operations/incidents");
  s.entity(p[0], "person", "on call, rolled back");
  s.entity(p[1], "person", "found the bad migration");
  s.entity(p[2], "person", "writing the postmortem");
  s.entity(service, "service", "returned 5xx");
  s.action("rolled back", service, "to " + release + " by " + recovered);
  s.cause("caused_by", "a bad migration");
  s.enums("important", "concerning", "success", int(r.between(72, 84)));
  return s;
}

Sample people_rollback(Rng& r) {
  const std::vector<std::string> p = r.sample(kPeople, 2);
  const std::string service = r.pick(kServices), release = version(r), time = expand(r, "{10-17}:{10-59}"),
                    spike = dec(r, 20, 190);
  Sample s;
  s.input = p[0] + " shipped " + release + " of " + service + " at " + time + ", and ten minutes later " + p[1] +
            " saw the error rate jump to " + spike + "% in Grafana. " + p[0] +
            " rolled it back before the hour was out.";
  s.gist = fit({service + " " + release + " rolled back after an error spike", service + " rollback"});
  s.summary = p[0] + " shipped " + service + " " + release + " at " + time + "; " + p[1] + " saw errors jump to " +
              spike + "% in Grafana and " + p[0] + " rolled it back.";
  s.narrative = "A short-lived release reverted within the hour.";
  s.concepts = {"rollback", "deployment", "monitoring"};
  s.topic("deployment", "operations/deployment");
  s.entity(p[0], "person", "shipped and rolled back");
  s.entity(p[1], "person", "spotted the spike");
  s.entity("Grafana", "tool", "showed the error spike");
  s.action("rolled back", service + " " + release, "after errors reached " + spike + "%");
  s.cause("caused", "the error spike led to the rollback");
  s.enums("notable", "concerning", "success", int(r.between(58, 70)));
  return s;
}

Sample people_pairing(Rng& r) {
  const std::vector<std::string> p = r.sample(kPeople, 2);
  const GoSite site = r.pick(kGoSites);
  const std::string hours = num(r, 2, 6);
  Sample s;
  s.input = p[0] + " and " + p[1] + " paired on the " + site.area + " migration for " + hours + " hours: " + p[0] +
            " wrote the backfill script (scripts/backfill.py) and " + p[1] + " handled the dual writes in " +
            site.file + ".";
  s.gist = fit({p[0] + " and " + p[1] + " paired on the " + site.area + " migration", "Pairing on the migration"});
  s.summary = p[0] + " wrote the backfill (scripts/backfill.py) and " + p[1] + " the dual writes in " + site.file +
              " during " + hours + " hours of pairing on the " + site.area + " migration.";
  s.narrative = "A pairing session that split the migration work in two.";
  s.concepts = {"pairing", "migration", site.area};
  s.topic("migration", "engineering/migration");
  s.entity(p[0], "person", "wrote the backfill script");
  s.entity(p[1], "person", "handled the dual writes");
  s.entity("scripts/backfill.py", "file", "backfill script");
  s.action("paired", site.area + " migration", hours + " hours");
  s.enums("routine", "satisfying", "ongoing", int(r.between(40, 52)));
  return s;
}

}  // namespace

const std::vector<Template>& people_templates() {
  static const std::vector<Template> templates = {people_standup, people_review, people_incident, people_rollback,
                                                  people_pairing};
  return templates;
}

}  // namespace bespoke::task::encoding::samples
