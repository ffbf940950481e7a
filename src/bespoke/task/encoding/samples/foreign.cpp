// Other languages: developer notes in Japanese, German, Spanish, French, Portuguese and Chinese.
#include "bespoke/task/encoding/samples/sample.h"

namespace bespoke::task::encoding::samples {
namespace {

// The note is in another language; the gold record is in English and keeps its identifiers.
Sample foreign(Rng& r, const std::string& language) {
  Sample s;
  s.narrative = "A non-English note; its identifiers and figures are kept as written.";
  s.concepts = {language};
  s.enums("notable", "neutral", "ongoing", int(r.between(50, 62)));
  return s;
}

Sample foreign_japanese(Rng& r) {
  const GoSite site = r.pick(kGoSites);
  const std::string conns = num(r, 50, 400), from = num(r, 4, 16), to = num(r, 20, 64), before = num(r, 300, 900),
                    after = num(r, 40, 250);
  Sample s = foreign(r, "japanese");
  s.input = site.file + " の " + site.function + " で、同時接続が " + conns + " を超えるとタイムアウトが発生する。" +
            "max_open_conns を " + from + " から " + to + " に上げたところ、p95 が " + before + " ms から " + after +
            " ms に下がった。";
  s.gist = fit({site.function + ": timeouts above " + conns + " connections", "Timeouts in " + site.function});
  s.summary = site.function + " in " + site.file + " timed out above " + conns +
              " concurrent connections; raising "
              "max_open_conns from " +
              from + " to " + to + " cut p95 from " + before + " ms to " + after + " ms.";
  s.concepts.insert(s.concepts.end(), {"timeouts", "configuration"});
  s.topic("performance", "engineering/performance");
  s.entity(site.function, "function", "timed out under load");
  s.action("raised", "max_open_conns", from + " to " + to);
  s.outcome = "success";
  return s;
}

Sample foreign_german(Rng& r) {
  const GoSite site = r.pick(kGoSites);
  const std::string release = version(r), host = r.pick(kHosts), seconds = num(r, 30, 300), person = r.pick(kPeople);
  const std::string test = r.pick(std::vector<std::string>{"TestReplayOrder", "TestCompactRace", "TestVacuumLock"});
  Sample s = foreign(r, "german");
  s.type = "error";
  s.input = "Seit " + release + " bricht der nächtliche Build auf " + host + " ab: " + test + " läuft nach " + seconds +
            " s in einen Timeout. " + person + " vermutet den neuen Verbindungspool in " + site.file + ".";
  s.gist = fit({test + " times out after " + seconds + " s since " + release, test + " times out"});
  s.summary = test + " times out after " + seconds + " s in the nightly build on " + host + " since " + release + "; " +
              person + " suspects the new connection pool in " + site.file + ".";
  s.concepts.insert(s.concepts.end(), {"ci", "timeout"});
  s.topic("testing", "engineering/ci");
  s.entity(test, "test", "times out");
  s.entity(person, "person", "suspects the connection pool");
  s.action("timed out", test, seconds + " s");
  s.cause("suspected_cause", "the new connection pool in " + site.file);
  s.enums("important", "frustrating", "ongoing", int(r.between(62, 74)));
  return s;
}

Sample foreign_spanish(Rng& r) {
  const std::string table = r.pick(std::vector<std::string>{"pedidos", "clientes", "facturas"}),
                    pg = expand(r, "{14-16}.{1-9}"), rows = big(r, 200000, 9000000), minutes = num(r, 4, 90),
                    index = "idx_" + table + "_fecha", seconds = num(r, 20, 400), person = r.pick(kPeople);
  Sample s = foreign(r, "spanish");
  s.input = "Migramos la tabla " + table + " a PostgreSQL " + pg + ": " + rows + " filas en " + minutes +
            " minutos. El índice " + index + " tardó " + seconds + " s en reconstruirse y " + person +
            " revisó los conteos.";
  s.gist = fit({table + " migrated to PostgreSQL " + pg, "Table migration to PostgreSQL " + pg});
  s.summary = table + " moved to PostgreSQL " + pg + ": " + rows + " rows in " + minutes + " minutes; rebuilding " +
              index + " took " + seconds + " s and " + person + " checked the counts.";
  s.concepts.insert(s.concepts.end(), {"migration", "postgresql"});
  s.topic("migration", "engineering/migration");
  s.entity(index, "index", "rebuilt in " + seconds + " s");
  s.entity(person, "person", "checked the row counts");
  s.action("migrated", table, rows + " rows");
  s.outcome = "success";
  return s;
}

Sample foreign_french(Rng& r) {
  const GoSite site = r.pick(kGoSites);
  const std::string release = version(r), service = r.pick(kServices), now = num(r, 900, 2400),
                    before = num(r, 200, 800), ticket = num(r, 1000, 4999), person = r.pick(kPeople);
  Sample s = foreign(r, "french");
  s.type = "error";
  s.input = "Après la mise à jour vers " + release + ", le service " + service + " consomme " + now +
            " Mo de RAM au lieu de " + before + " Mo. " + person + " a ouvert le ticket #" + ticket +
            " et soupçonne le cache dans " + site.file + ".";
  s.gist = fit({service + " uses " + now + " Mo after " + release, service + " memory jump"});
  s.summary = service + " uses " + now + " Mo of RAM instead of " + before + " Mo since " + release + "; " + person +
              " opened ticket #" + ticket + ", suspecting the cache in " + site.file + ".";
  s.concepts.insert(s.concepts.end(), {"memory", "regression"});
  s.topic("performance", "engineering/memory");
  s.entity(service, "service", "memory regression");
  s.entity(person, "person", "opened ticket #" + ticket);
  s.action("opened", "ticket #" + ticket, "suspects the cache");
  s.enums("important", "concerning", "ongoing", int(r.between(62, 74)));
  return s;
}

Sample foreign_portuguese(Rng& r) {
  const std::string job = r.pick(std::vector<std::string>{"sync-faturas", "export-relatorios", "reindex-busca"}),
                    times = num(r, 2, 6), person = r.pick(kPeople), time = expand(r, "0{1-6}:{10-59}"),
                    timeout = num(r, 30, 120);
  const std::string error = r.pick(std::vector<std::string>{"context deadline exceeded", "connection reset by peer"});
  Sample s = foreign(r, "portuguese");
  s.type = "error";
  s.input = "O job " + job + " falhou " + times + " vezes esta noite com o erro \"" + error + "\"; " + person +
            " reiniciou o worker às " + time + " e aumentou o timeout para " + timeout + " s.";
  s.gist = fit({job + " failed " + times + " times overnight", job + " failures"});
  s.summary = job + " failed " + times + " times overnight with \"" + error + "\"; " + person +
              " restarted the worker at " + time + " and raised the timeout to " + timeout + " s.";
  s.concepts.insert(s.concepts.end(), {"batch job", "timeout"});
  s.topic("operations", "operations/batch-jobs");
  s.entity(person, "person", "restarted the worker");
  s.action("raised", "timeout", timeout + " s");
  s.enums("notable", "frustrating", "ongoing", int(r.between(55, 66)));
  return s;
}

Sample foreign_chinese(Rng& r) {
  const GoSite site = r.pick(kGoSites);
  const std::string service = r.pick(kServices), release = version(r), before = num(r, 80, 300),
                    after = num(r, 400, 2000), person = r.pick(kPeople);
  Sample s = foreign(r, "chinese");
  s.type = "error";
  s.input = service + " 升级到 " + release + " 之后，p99 延迟从 " + before + " ms 升到 " + after + " ms。" + person +
            " 正在排查 " + site.file + " 里的锁竞争，怀疑是 " + site.function + " 持锁时间过长。";
  s.gist = fit({service + " p99 " + before + " -> " + after + " ms after " + release, service + " latency regression"});
  s.summary = service + " p99 latency rose from " + before + " ms to " + after + " ms after " + release + "; " +
              person + " is investigating lock contention in " + site.file + ", suspecting " + site.function + ".";
  s.concepts.insert(s.concepts.end(), {"latency", "lock contention"});
  s.topic("performance", "engineering/performance");
  s.entity(site.function, "function", "suspected of holding the lock too long");
  s.entity(person, "person", "investigating");
  s.action("investigating", "lock contention", site.file);
  s.enums("important", "concerning", "ongoing", int(r.between(62, 74)));
  return s;
}

}  // namespace

const std::vector<Template>& foreign_templates() {
  static const std::vector<Template> templates = {foreign_japanese, foreign_german,     foreign_spanish,
                                                  foreign_french,   foreign_portuguese, foreign_chinese};
  return templates;
}

}  // namespace bespoke::task::encoding::samples
