// Dense numbers: alerts, training logs, benchmarks and other readings packed with figures.
#include "bespoke/task/encoding/samples/sample.h"

namespace bespoke::task::encoding::samples {
namespace {

Sample dense(Rng& r, const std::string& concept, const std::string& what) {
  Sample s;
  s.type = "insight";
  s.narrative = "A " + what + " packed with figures, kept as given.";
  s.concepts = {concept, "metrics"};
  s.topic(concept, "metrics/" + concept);
  s.enums("notable", "neutral", "unknown", int(r.between(50, 62)));
  return s;
}

Sample dense_alert(Rng& r) {
  const std::string host = r.pick(kHosts), time = expand(r, "{10-23}:{10-59}"), p99 = big(r, 1200, 4800),
                    minutes = num(r, 5, 25), cpu = dec(r, 800, 999), mem = dec(r, 480, 630), conns = num(r, 900, 1990),
                    limit = "2000", errors = dec(r, 12, 90), iowait = dec(r, 50, 300);
  Sample s = dense(r, "monitoring", "monitoring alert");
  s.input = "Alert on " + host + " at " + time + ": p99 latency " + p99 + " ms against an 800 ms threshold for " +
            minutes + " minutes, CPU at " + cpu + "%, memory " + mem + " of 64 GB, " + conns +
            " open connections (limit " + limit + "), error rate " + errors + "% and I/O wait " + iowait + "%.";
  s.gist = fit({"Alert on " + host + ": p99 " + p99 + " ms, CPU " + cpu + "%", "Alert on " + host});
  s.summary = "Alert on " + host + ": p99 latency " + p99 + " ms over the 800 ms threshold for " + minutes +
              " minutes, with CPU at " + cpu + "% and errors at " + errors + "%.";
  s.entity(host, "host", "alerting host");
  s.action("alerted", "p99 latency", p99 + " ms for " + minutes + " minutes");
  s.enums("important", "concerning", "ongoing", int(r.between(72, 85)));
  return s;
}

Sample dense_training(Rng& r) {
  const int64_t total = 1000 * r.between(20, 90);
  const std::string step = grouped(r.between(1, total / 1000 - 1) * 1000), all = grouped(total),
                    loss = dec(r, 12000, 26000, 4), eval = dec(r, 12500, 27000, 4), lr = dec(r, 10, 60) + "e-4",
                    grad = dec(r, 20, 150, 2), tps = big(r, 9000, 52000), mem = dec(r, 400, 790),
                    step_time = dec(r, 40, 180, 2), eta = dec(r, 10, 300),
                    batch = std::to_string(64 * r.between(2, 16));
  Sample s = dense(r, "training", "training log line");
  s.input = "Step " + step + " of " + all + ": train loss " + loss + ", eval loss " + eval + ", lr " + lr +
            ", grad norm " + grad + ", " + tps + " tokens/s, GPU memory " + mem + " of 80 GB, " + step_time +
            " s per step, batch of " + batch + " sequences, ETA " + eta + " h.";
  s.gist = fit({"Step " + step + ": loss " + loss + ", eval " + eval, "Step " + step + " training stats"});
  s.summary = "Step " + step + " of " + all + " has train loss " + loss + " and eval loss " + eval + " at lr " + lr +
              ", " + tps + " tokens/s, ETA " + eta + " h.";
  s.action("logged", "training step " + step, "loss " + loss);
  s.outcome = "ongoing";
  return s;
}

Sample dense_benchmark(Rng& r) {
  const std::string rows = big(r, 100000, 5000000), btree = dec(r, 3, 30), hash = dec(r, 1, 9), scan = num(r, 180, 900),
                    size1 = num(r, 90, 240), size2 = num(r, 120, 320), insert = big(r, 12000, 90000),
                    build1 = dec(r, 40, 300), build2 = dec(r, 20, 200), p99 = dec(r, 31, 90), threads = num(r, 2, 16),
                    hits = dec(r, 700, 990);
  Sample s = dense(r, "database", "database benchmark");
  s.input = "Index benchmark on " + rows + " rows: B-tree lookup " + btree + " ms, hash lookup " + hash +
            " ms, full scan " + scan + " ms. Index sizes " + size1 + " MB (B-tree) and " + size2 +
            " MB (hash); bulk insert " + insert + " rows/s; build time " + build1 + " s and " + build2 + " s on " +
            threads + " threads. p99 B-tree lookup " + p99 + " ms with a " + hits + "% page cache hit rate.";
  s.gist = fit({"Index benchmark: B-tree " + btree + " ms, hash " + hash + " ms", "Index benchmark results"});
  s.summary = "Index benchmark on " + rows + " rows: B-tree lookups take " + btree + " ms and hash lookups " + hash +
              " ms versus a " + scan + " ms full scan; indexes use " + size1 + " MB and " + size2 + " MB.";
  s.action("benchmarked", "indexes", rows + " rows");
  return s;
}

Sample dense_ci(Rng& r) {
  const std::string pipeline = num(r, 1000, 9999), minutes = num(r, 9, 40), seconds = num(r, 10, 59),
                    passed = big(r, 800, 4000), failed = num(r, 1, 9), skipped = num(r, 3, 40),
                    coverage = dec(r, 600, 950), drop = dec(r, 1, 19), build = num(r, 2, 8), deploy = num(r, 1, 4),
                    artifact = num(r, 80, 400), queued = num(r, 10, 300), cache = dec(r, 400, 990);
  Sample s = dense(r, "ci", "CI pipeline summary");
  s.input = "Pipeline #" + pipeline + " took " + minutes + "m " + seconds + "s: " + passed + " tests passed, " +
            failed + " failed, " + skipped + " skipped. Coverage " + coverage + "% (down " + drop +
            " points); build stage " + build + " min, deploy stage " + deploy + " min; artifact size " + artifact +
            " MB; queued " + queued + " s before starting, cache hit rate " + cache + "%.";
  s.gist =
      fit({"Pipeline #" + pipeline + ": " + failed + " failed, coverage " + coverage + "%", "Pipeline #" + pipeline});
  s.summary = "Pipeline #" + pipeline + " ran " + minutes + "m " + seconds + "s with " + passed + " passed, " + failed +
              " failed and " + skipped + " skipped; coverage fell " + drop + " points to " + coverage + "%.";
  s.action("ran", "pipeline #" + pipeline, failed + " failures");
  s.enums("notable", "concerning", "failure", int(r.between(55, 68)));
  return s;
}

Sample dense_finance(Rng& r) {
  const std::string quarter = "Q" + num(r, 1, 4), revenue = dec(r, 120, 990, 2), growth = dec(r, 10, 250),
                    margin = dec(r, 300, 750), opex = dec(r, 50, 300, 2), income = dec(r, 5, 90, 2),
                    cash = dec(r, 20, 300), burn = big(r, 90000, 600000), hires = num(r, 2, 30), churn = dec(r, 5, 60),
                    headcount = num(r, 40, 400), arr = dec(r, 500, 4000, 2);
  Sample s = dense(r, "finance", "quarterly finance summary");
  s.input = quarter + " close: revenue " + revenue + " million dollars (up " + growth +
            "% on the prior quarter), gross margin " + margin + "%, opex " + opex + " million, net income " + income +
            " million, cash " + cash + " million, burn " + burn + " per month, " + hires +
            " new hires for a headcount of " + headcount + ", churn " + churn + "%, ARR " + arr + " million.";
  s.gist = fit({quarter + ": revenue " + revenue + "M, margin " + margin + "%", quarter + " close figures"});
  s.summary = quarter + " revenue was " + revenue + " million dollars, up " + growth + "%, with " + margin +
              "% gross margin, " + income + " million net income and " + cash + " million cash.";
  s.action("reported", quarter + " results", "revenue " + revenue + " million");
  return s;
}

Sample dense_network(Rng& r) {
  const std::string ip = expand(r, "10.{0-255}.{0-255}.{1-254}"), hops = num(r, 5, 16), rtt = dec(r, 50, 900),
                    loss = dec(r, 1, 90), hop = num(r, 2, 5), down = num(r, 200, 940), up = num(r, 40, 400),
                    jitter = dec(r, 5, 90), mtu = r.chance(50) ? "1,500" : "9,000", retransmits = num(r, 41, 400),
                    dns = num(r, 5, 40);
  Sample s = dense(r, "networking", "network diagnostic");
  s.input = "Traceroute to " + ip + ": " + hops + " hops, average RTT " + rtt + " ms, " + loss +
            "% packet loss starting at hop " + hop + ". iperf: " + down + " Mbit/s down, " + up +
            " Mbit/s up, jitter " + jitter + " ms, MTU " + mtu + " bytes, " + retransmits +
            " TCP retransmits, DNS lookup " + dns + " ms.";
  s.gist = fit({"Path to " + ip + ": " + loss + "% loss from hop " + hop, "Network diagnostics to " + ip});
  s.summary = "Traceroute to " + ip + " took " + hops + " hops at " + rtt + " ms average RTT with " + loss +
              "% loss from hop " + hop + "; iperf measured " + down + " Mbit/s down and " + up + " Mbit/s up.";
  s.action("measured", "path to " + ip, loss + "% loss");
  s.enums("notable", "concerning", "ongoing", int(r.between(50, 62)));
  return s;
}

Sample dense_weather(Rng& r) {
  const std::string time = "0" + num(r, 5, 9) + ":00", temp = dec(r, 20, 280), dew = dec(r, 10, 190),
                    humidity = num(r, 55, 98), wind = num(r, 8, 35), gust = num(r, 36, 80),
                    bearing = std::to_string(10 * r.between(1, 35)), pressure = expand(r, "{980-1030,}.{0-9}"),
                    fall = dec(r, 5, 40), rain = dec(r, 0, 300), visibility = num(r, 2, 30);
  Sample s = dense(r, "weather", "weather station log");
  s.input = "Station log " + time + ": temperature " + temp + "°C, dew point " + dew + "°C, humidity " + humidity +
            "%, wind " + wind + " km/h gusting " + gust + " km/h from " + bearing + "°, pressure " + pressure +
            " hPa and falling " + fall + " hPa over 3 hours, rain " + rain + " mm since midnight, visibility " +
            visibility + " km.";
  s.gist = fit({"Station " + time + ": " + temp + "°C, gusts " + gust + " km/h", "Station log " + time});
  s.summary = "Station log " + time + ": " + temp + "°C, humidity " + humidity + "%, gusts to " + gust +
              " km/h, pressure " + pressure + " hPa falling " + fall + " hPa, " + rain + " mm of rain.";
  s.action("recorded", "weather readings", time);
  return s;
}

Sample dense_manufacturing(Rng& r) {
  const std::string line = num(r, 1, 6), batch = num(r, 1000, 9999), units = big(r, 1200, 9600),
                    rejects = num(r, 5, 90), rate = dec(r, 10, 190, 2), bore = "12.0" + num(r, 10, 99),
                    sigma = "0.0" + num(r, 10, 30), torque = dec(r, 60, 110), cycle = dec(r, 300, 600),
                    scrap = big(r, 400, 5000), speed = num(r, 100, 180), shift = num(r, 6, 12);
  Sample s = dense(r, "quality", "manufacturing QA report");
  s.input = "Line " + line + " QA for batch " + batch + ": " + units + " units inspected, " + rejects + " rejected (" +
            rate + "%), mean bore " + bore + " mm with sigma " + sigma + " mm, average torque " + torque +
            " Nm, cycle time " + cycle + " s, line speed " + speed + " units per hour over a " + shift +
            "-hour shift, scrap cost " + scrap + " EUR.";
  s.gist =
      fit({"Batch " + batch + ": " + rejects + " rejects of " + units + " (" + rate + "%)", "Batch " + batch + " QA"});
  s.summary = "Line " + line + " batch " + batch + " had " + rejects + " rejects in " + units + " units (" + rate +
              "%), bore " + bore + " mm, sigma " + sigma + " mm, scrap cost " + scrap + " EUR.";
  s.action("inspected", "batch " + batch, units + " units");
  return s;
}

Sample dense_box_score(Rng& r) {
  const std::string player = r.pick(kSurnames);
  const int64_t made = r.between(8, 15);
  const std::string points = num(r, 24, 44), fgm = std::to_string(made), fga = std::to_string(made + r.between(4, 12)),
                    rebounds = num(r, 3, 15), assists = num(r, 2, 12), minutes = num(r, 30, 42), fg = dec(r, 400, 560),
                    three = dec(r, 280, 460), ft = num(r, 12, 22), fta = num(r, 23, 30), us = num(r, 100, 125),
                    them = num(r, 88, 99), turnovers = num(r, 6, 19);
  Sample s = dense(r, "basketball", "basketball box score");
  s.input = player + " scored " + points + " points on " + fgm + "-of-" + fga + " shooting with " + rebounds +
            " rebounds and " + assists + " assists in " + minutes + " minutes. The team shot " + fg +
            "% from the field and " + three + "% from three, made " + ft + " of " + fta + " free throws, committed " +
            turnovers + " turnovers and won " + us + "-" + them + ".";
  s.gist = fit({player + " " + points + " points in a " + us + "-" + them + " win", player + " scores " + points});
  s.summary = player + " had " + points + " points (" + fgm + "-of-" + fga + "), " + rebounds + " rebounds and " +
              assists + " assists in a " + us + "-" + them + " win; the team shot " + fg + "%.";
  s.entity(player, "person", points + " points");
  s.action("won", "game", us + "-" + them);
  s.outcome = "success";
  return s;
}

Sample dense_vehicle(Rng& r) {
  const std::string km = big(r, 20000, 240000), coolant = num(r, 88, 112), oil = dec(r, 10, 45),
                    battery = dec(r, 118, 146), trim = dec(r, 10, 150), code = "P030" + num(r, 1, 6),
                    count = num(r, 2, 9), maf = dec(r, 20, 60), consumption = dec(r, 45, 110), tyres = dec(r, 190, 260);
  Sample s = dense(r, "vehicle diagnostics", "vehicle diagnostic scan");
  s.input = "OBD scan at " + km + " km: coolant " + coolant + "°C, oil pressure " + oil + " bar at idle, battery " +
            battery + " V, long-term fuel trim +" + trim + "% on bank 1, code " + code + " logged " + count +
            " times, MAF " + maf + " g/s, consumption " + consumption + " L per 100 km, tyres at " + tyres + " bar.";
  s.gist = fit({"OBD at " + km + " km: " + code + " x" + count + ", trim +" + trim + "%", "OBD scan at " + km + " km"});
  s.summary = "OBD scan at " + km + " km logged " + code + " " + count + " times with fuel trim +" + trim +
              "%, coolant " + coolant + "°C and battery " + battery + " V.";
  s.entity(code, "fault_code", "logged " + count + " times");
  s.action("scanned", "vehicle", km + " km");
  s.enums("notable", "concerning", "unknown", int(r.between(50, 62)));
  return s;
}

}  // namespace

const std::vector<Template>& dense_number_templates() {
  static const std::vector<Template> templates = {dense_alert,     dense_training, dense_benchmark, dense_ci,
                                                  dense_finance,   dense_network,  dense_weather,   dense_manufacturing,
                                                  dense_box_score, dense_vehicle};
  return templates;
}

}  // namespace bespoke::task::encoding::samples
