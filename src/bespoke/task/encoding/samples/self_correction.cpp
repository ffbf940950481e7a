// Self-corrections: notes that fix a number, person, file, metric, version or time mid-sentence.
#include "bespoke/task/encoding/samples/sample.h"

namespace bespoke::task::encoding::samples {
namespace {

Sample correction_number(Rng& r) {
  const std::string service = r.pick(kServices);
  const int64_t wrong = r.between(20, 90);
  const std::string a = std::to_string(wrong), b = std::to_string(wrong + r.between(3, 15));
  Sample s;
  s.input = "Cold start for " + service + " is " + a + " ms, no wait, " + b +
            " ms; the first figure was from the warm-cache run.";
  s.gist = service + " cold start: " + b + " ms";
  s.summary =
      "Cold start for " + service + " is " + b + " ms; the " + a + " ms first given came from the warm-cache run.";
  s.narrative = "A measurement corrected within the same note.";
  s.concepts = {"cold start", "performance"};
  s.topic("performance", "engineering/performance");
  s.entity(service, "service", "cold start " + b + " ms");
  s.action("corrected", "cold start figure", a + " ms to " + b + " ms");
  s.enums("routine", "neutral", "success", int(r.between(38, 48)));
  return s;
}

Sample correction_person(Rng& r) {
  const std::vector<std::string> p = r.sample(kPeople, 2);
  Sample s;
  s.input = p[0] + " approved the schema migration. Sorry, it was " + p[1] + "; " + p[0] + " only left comments on it.";
  s.gist = p[1] + " approved the schema migration";
  s.summary =
      p[1] + " approved the schema migration and " + p[0] + " only left comments; the note first named " + p[0] + ".";
  s.narrative = "A note that corrects who gave the approval.";
  s.concepts = {"code review", "migration"};
  s.topic("code review", "team/code-review");
  s.entity(p[1], "person", "approved the migration");
  s.entity(p[0], "person", "left comments");
  s.action("approved", "schema migration", p[1]);
  s.enums("routine", "neutral", "success", int(r.between(35, 45)));
  return s;
}

Sample correction_file(Rng& r) {
  const std::vector<GoSite> sites = r.sample(kGoSites, 2);
  const std::string line = line_no(r);
  Sample s;
  s.type = "error";
  s.input = "The connection leak is in " + sites[0].file + "... actually no, " + sites[0].file + " just calls into " +
            sites[1].file + ":" + line + ", which never closes the rows iterator.";
  s.gist = fit({"Connection leak in " + basename(sites[1].file) + ":" + line, "Connection leak located"});
  s.summary = "The connection leak is in " + sites[1].file + ":" + line + ", which never closes the rows iterator; " +
              sites[0].file + " only calls it.";
  s.narrative = "A diagnosis that moved to a different file mid-note.";
  s.concepts = {"resource leak", "debugging", "database"};
  s.topic("debugging", "engineering/debugging");
  s.entity(sites[1].file, "file", "never closes the rows iterator");
  s.entity(sites[0].file, "file", "only the caller");
  s.cause("caused_by", "the rows iterator is never closed");
  s.enums("notable", "concerning", "ongoing", int(r.between(58, 68)));
  return s;
}

Sample correction_metric(Rng& r) {
  const std::string wrong = dec(r, 500, 900), right = dec(r, 500, 900);
  Sample s;
  s.type = "insight";
  s.input = "Recall@10 on the eval set went up to " + wrong + "%. Correction: " + right + "%, I misread the column.";
  s.gist = "Recall@10 on the eval set: " + right + "%";
  s.summary =
      "Recall@10 on the eval set is " + right + "%; the " + wrong + "% first written came from misreading the column.";
  s.narrative = "An evaluation result corrected right after it was written.";
  s.concepts = {"evaluation", "recall"};
  s.topic("evaluation", "ml/evaluation");
  s.action("corrected", "recall@10", wrong + "% to " + right + "%");
  s.enums("notable", "neutral", "success", int(r.between(45, 56)));
  return s;
}

Sample correction_version(Rng& r) {
  const std::string minor = num(r, 2, 9), good = "v2." + minor + "." + num(r, 4, 9),
                    bad = "v2." + minor + "." + num(r, 0, 3);
  Sample s;
  s.type = "decision";
  s.input = "Pinned the client to " + bad + ". Scratch that: " + good + ", because " + bad +
            " still has the TLS handshake bug.";
  s.gist = "Client pinned to " + good;
  s.summary = "Pinned the client to " + good + " rather than " + bad + ", which still has the TLS handshake bug.";
  s.narrative = "A version pin revised before the note ended.";
  s.concepts = {"dependency", "tls"};
  s.topic("dependency", "engineering/dependencies");
  s.entity(good, "version", "pinned");
  s.entity(bad, "version", "has the TLS handshake bug");
  s.action("pinned", "client", good);
  s.enums("routine", "neutral", "success", int(r.between(38, 48)));
  return s;
}

Sample correction_time(Rng& r) {
  const std::string day = r.pick(std::vector<std::string>{"Tuesday", "Wednesday", "Thursday"});
  const int64_t hour = r.between(9, 15);
  const std::string wrong = std::to_string(hour) + ":00", right = std::to_string(hour + 2) + ":00";
  Sample s;
  s.input = "The deploy window is " + day + " at " + wrong + ", sorry, " + right + " UTC.";
  s.gist = "Deploy window: " + day + " " + right + " UTC";
  s.summary = "The deploy window is " + day + " at " + right + " UTC, corrected from " + wrong + ".";
  s.narrative = "A scheduling note with its time fixed mid-sentence.";
  s.concepts = {"deployment", "schedule"};
  s.topic("deployment", "operations/deployment");
  s.entity(day, "date", "deploy window at " + right + " UTC");
  s.action("scheduled", "deploy window", day + " " + right + " UTC");
  s.enums("routine", "neutral", "ongoing", int(r.between(30, 42)));
  return s;
}

}  // namespace

const std::vector<Template>& self_correction_templates() {
  static const std::vector<Template> templates = {correction_number, correction_person,  correction_file,
                                                  correction_metric, correction_version, correction_time};
  return templates;
}

}  // namespace bespoke::task::encoding::samples
