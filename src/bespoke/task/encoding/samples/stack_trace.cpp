// Stack traces: a Go, Python, Rust or Node crash pasted with a line about where it came from.
#include "bespoke/task/encoding/samples/sample.h"

namespace bespoke::task::encoding::samples {
namespace {

Sample trace_go_index(Rng& r) {
  const std::vector<GoSite> sites = r.sample(kGoSites, 2);
  const std::string i = num(r, 1, 9), l1 = line_no(r), l2 = line_no(r), g = num(r, 7, 480), release = version(r);
  const std::string pkg1 = sites[0].file.substr(0, sites[0].file.rfind('/'));
  const std::string pkg2 = sites[1].file.substr(0, sites[1].file.rfind('/'));
  Sample s;
  s.type = "error";
  s.input = "Search crashed on staging right after the " + release +
            " deploy:\n\npanic: runtime error: index out of range [" + i + "] with length " + i + "\n\ngoroutine " + g +
            " [running]:\ngithub.com/acme/ledger/" + pkg1 + "." + sites[0].function + "(...)\n\t/home/build/ledger/" +
            sites[0].file + ":" + l1 + " +0x1f4\ngithub.com/acme/ledger/" + pkg2 + "." + sites[1].function +
            "(...)\n\t/home/build/ledger/" + sites[1].file + ":" + l2 + " +0x8c";
  s.gist = fit({"Go panic: index out of range [" + i + "] in " + sites[0].function, "Go panic: index out of range"});
  s.summary = sites[0].function + " panicked at " + basename(sites[0].file) + ":" + l1 + " with index out of range [" +
              i + "] with length " + i + ", called from " + sites[1].function + " at " + basename(sites[1].file) + ":" +
              l2 + ", after the " + release + " deploy.";
  s.narrative = "A crash on staging that followed a deploy; no fix is recorded yet.";
  s.concepts = {"panic", "go", "debugging", "deployment"};
  s.topic("debugging", "engineering/crashes");
  s.entity(sites[0].function, "function", "panicked at line " + l1);
  s.entity(sites[1].function, "function", "caller at line " + l2);
  s.entity(release, "version", "deploy before the crash");
  s.action("crashed", "search on staging", "index out of range [" + i + "] with length " + i);
  s.cause("followed", "the " + release + " deploy");
  s.enums("important", "concerning", "failure", int(r.between(78, 88)));
  return s;
}

Sample trace_go_nil(Rng& r) {
  const std::vector<GoSite> sites = r.sample(kGoSites, 2);
  const std::string l1 = line_no(r), l2 = line_no(r), g = num(r, 7, 480), addr = "0x" + num(r, 10, 98);
  const std::string service = r.pick(kServices);
  Sample s;
  s.type = "error";
  s.input = service +
            " is crash-looping in production with this:\n\npanic: runtime error: invalid memory address or nil "
            "pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=" +
            addr + " pc=0x6b2f3a]\n\ngoroutine " + g + " [running]:\nmain." + sites[0].function + "(0x0)\n\t" +
            sites[0].file + ":" + l1 + "\nmain." + sites[1].function + "()\n\t" + sites[1].file + ":" + l2 +
            "\n\nThe config for the new region has no cache block, so the pointer is probably never set.";
  s.gist = fit({service + ": nil pointer dereference in " + sites[0].function, service + ": nil pointer dereference"});
  s.summary = service + " crash-loops in production on a nil pointer dereference (SIGSEGV) in " + sites[0].function +
              " at " + sites[0].file + ":" + l1 + ", reached from " + sites[1].function + " at " + sites[1].file + ":" +
              l2 + ".";
  s.narrative = "A production crash loop, likely tied to a config missing its cache block.";
  s.concepts = {"panic", "go", "nil pointer", "production incident"};
  s.topic("incident", "operations/incidents");
  s.entity(service, "service", "crash-looping in production");
  s.entity(sites[0].file, "file", "line " + l1 + " dereferences nil");
  s.entity(sites[1].file, "file", "line " + l2 + " calls it");
  s.action("crashed", service, "nil pointer dereference");
  s.cause("probable_cause", "the new region's config has no cache block");
  s.enums("critical", "concerning", "failure", int(r.between(86, 95)));
  return s;
}

Sample trace_python(Rng& r) {
  const std::vector<PySite> sites = r.sample(kPySites, 2);
  const std::string l1 = line_no(r), l2 = line_no(r);
  struct Failure {
    std::string code1, code2, error;
  };
  const std::vector<Failure> failures = {
      {"rows = " + sites[1].function + "(batch)", "return record[\"tenant_id\"]", "KeyError: 'tenant_id'"},
      {"profile = " + sites[1].function + "(user_id)", "return result.rows[0]",
       "AttributeError: 'NoneType' object has no attribute 'rows'"},
      {"total = " + sites[1].function + "(line)", "amount = float(cell)",
       "ValueError: could not convert string to float: 'n/a'"}};
  const Failure f = r.pick(failures);
  Sample s;
  s.type = "error";
  s.input = "Cron job output from last night:\nTraceback (most recent call last):\n  File \"" + sites[0].file +
            "\", line " + l1 + ", in " + sites[0].function + "\n    " + f.code1 + "\n  File \"" + sites[1].file +
            "\", line " + l2 + ", in " + sites[1].function + "\n    " + f.code2 + "\n" + f.error;
  const std::string error_type = f.error.substr(0, f.error.find(':'));
  s.gist = fit({error_type + " in " + sites[1].function + " (" + basename(sites[1].file) + ":" + l2 + ")",
                error_type + " in " + sites[1].function, error_type + " in a cron job"});
  s.summary = sites[1].function + " in " + sites[1].file + " raised " + f.error + " at line " + l2 + ", called from " +
              sites[0].function + " in " + sites[0].file + " at line " + l1 + ".";
  s.narrative = "A failed cron run; the note records only the traceback.";
  s.concepts = {"python", "traceback", "cron job"};
  s.topic("debugging", "engineering/crashes");
  s.entity(error_type, "error", f.error);
  s.entity(sites[1].file, "file", "line " + l2 + " raised");
  s.entity(sites[0].file, "file", "line " + l1 + " called it");
  s.action("raised", error_type, "in " + sites[1].function);
  s.enums("important", "concerning", "failure", int(r.between(70, 82)));
  return s;
}

Sample trace_rust(Rng& r) {
  const std::string l1 = line_no(r), c1 = num(r, 9, 40), l2 = line_no(r), c2 = num(r, 9, 40);
  const std::string module = r.pick(std::vector<std::string>{"merge", "replay", "snapshot"});
  Sample s;
  s.type = "error";
  s.input = "The sync worker died with:\n\nthread 'tokio-runtime-worker' panicked at src/sync/" + module + ".rs:" + l1 +
            ":" + c1 +
            ":\ncalled `Option::unwrap()` on a `None` value\nstack backtrace:\n   0: ledger::sync::" + module +
            "::apply_remote\n             at ./src/sync/" + module + ".rs:" + l1 + ":" + c1 +
            "\n   1: ledger::sync::session::pull\n             at ./src/sync/session.rs:" + l2 + ":" + c2 +
            "\n\nHappens only when the remote sends an empty change set.";
  s.gist = fit({"Rust panic: unwrap on None in apply_remote", "Rust panic: unwrap on None"});
  s.summary = "apply_remote in src/sync/" + module + ".rs:" + l1 +
              " panicked calling Option::unwrap() on a None value, "
              "reached from pull in src/sync/session.rs:" +
              l2 + "; it happens only on an empty change set.";
  s.narrative = "A worker crash with a known trigger but no fix yet.";
  s.concepts = {"rust", "panic", "sync"};
  s.topic("debugging", "engineering/crashes");
  s.entity("src/sync/" + module + ".rs", "file", "line " + l1 + " unwraps None");
  s.entity("apply_remote", "function", "panicking function");
  s.action("panicked", "sync worker", "unwrap on None");
  s.cause("triggered_by", "an empty change set from the remote");
  s.enums("important", "concerning", "failure", int(r.between(74, 86)));
  return s;
}

Sample trace_node(Rng& r) {
  const std::string l1 = line_no(r), c1 = num(r, 5, 40), l2 = line_no(r), c2 = num(r, 5, 40);
  const std::string field = r.pick(std::vector<std::string>{"id", "email", "createdAt"});
  const std::string page =
      r.pick(std::vector<std::string>{"the invoices page", "the admin dashboard", "the search results"});
  Sample s;
  s.type = "error";
  s.input = "Blank screen on " + page + ". Console says:\nTypeError: Cannot read properties of undefined (reading '" +
            field + "')\n    at renderRow (/app/src/components/table.js:" + l1 + ":" + c1 +
            ")\n    at Array.map (<anonymous>)\n    at renderTable (/app/src/components/table.js:" + l2 + ":" + c2 +
            ")";
  s.gist = fit({"TypeError reading '" + field + "' in renderRow", "TypeError in renderRow"});
  s.summary = "Blank screen on " + page + ": renderRow at table.js:" + l1 + " reads '" + field +
              "' of undefined, called through Array.map from renderTable at table.js:" + l2 + ".";
  s.narrative = "A front-end crash reported from the browser console.";
  s.concepts = {"javascript", "frontend", "debugging"};
  s.topic("frontend", "engineering/frontend");
  s.entity("/app/src/components/table.js", "file", "lines " + l1 + " and " + l2);
  s.entity("renderRow", "function", "reads the undefined value");
  s.action("crashed", page, "TypeError reading '" + field + "'");
  s.enums("important", "frustrating", "failure", int(r.between(66, 78)));
  return s;
}

}  // namespace

const std::vector<Template>& stack_trace_templates() {
  static const std::vector<Template> templates = {trace_go_index, trace_go_nil, trace_python, trace_rust, trace_node};
  return templates;
}

}  // namespace bespoke::task::encoding::samples
