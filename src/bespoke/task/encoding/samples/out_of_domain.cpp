// Out-of-domain notes: prose from fields outside software, from cooking to energy.
#include "bespoke/task/encoding/samples/sample.h"

namespace bespoke::task::encoding::samples {
namespace {

std::string date(Rng& r) {
  const std::string month = r.pick(kMonths);
  return month + expand(r, " {1-28}, {1998-2024}");
}

// A note outside software; `domain` names the field in the concepts and the narrative.
Sample ood(Rng& r, const std::string& domain, const std::string& kind) {
  Sample s;
  s.narrative = std::string(domain[0] == 'a' || domain[0] == 'e' ? "An " : "A ") + domain + " note with " + kind +
                "; nothing in it concerns software.";
  s.concepts = {domain};
  s.topic(domain, "general/" + domain);
  s.enums("routine", "neutral", "unknown", int(r.between(32, 48)));
  return s;
}

Sample ood_cooking(Rng& r) {
  const std::string people = num(r, 4, 12), kg = dec(r, 12, 32), hours = dec(r, 25, 40), temp = num(r, 140, 170),
                    wine = num(r, 250, 750), cook = r.pick(kPeople);
  Sample s = ood(r, "cooking", "quantities, times and temperatures");
  s.input = "Braised short ribs for " + people + " people: " + kg + " kg of ribs seared hard, then " + hours +
            " hours at " + temp + "°C in " + wine + " ml of red wine. " + cook +
            " says resting them overnight makes the fat easy to lift off.";
  s.gist = "Short ribs for " + people + ": " + hours + " hours at " + temp + "°C";
  s.summary = "Braised " + kg + " kg of short ribs for " + people + " people, " + hours + " hours at " + temp +
              "°C in " + wine + " ml of wine; " + cook + " suggests resting them overnight.";
  s.concepts.insert(s.concepts.end(), {"braising", "recipe"});
  s.entity(cook, "person", "suggested resting overnight");
  s.action("braised", "short ribs", hours + " hours at " + temp + "°C");
  return s;
}

Sample ood_legal(Rng& r) {
  const std::string unit = num(r, 2, 40),
                    street = r.pick(std::vector<std::string>{"Harbour Road", "Mill Lane", "Castle Street"});
  const std::string months = num(r, 12, 36), start = date(r), penalty = num(r, 2, 3), amount = big(r, 2400, 9800),
                    clause = expand(r, "{8-19}.{1-6}");
  Sample s = ood(r, "legal", "dates, amounts and a clause number");
  s.input = "The lease for Unit " + unit + " at " + street + " runs " + months + " months from " + start +
            ". Ending it early costs " + penalty + " months' rent (" + amount + " EUR) under clause " + clause + ".";
  s.gist = fit({"Unit " + unit + " lease: " + months + " months, clause " + clause, "Unit " + unit + " lease terms"});
  s.summary = "The Unit " + unit + " lease at " + street + " runs " + months + " months from " + start +
              "; early termination costs " + amount + " EUR under clause " + clause + ".";
  s.concepts.insert(s.concepts.end(), {"lease", "contract"});
  s.entity(street, "location", "address of Unit " + unit);
  s.action("runs", "lease", months + " months from " + start);
  return s;
}

Sample ood_medical(Rng& r) {
  const std::string age = num(r, 34, 81), hr = num(r, 88, 124), sys = num(r, 135, 170), dia = num(r, 85, 105),
                    doctor = r.pick(kSurnames), mg = r.pick(std::vector<std::string>{"5", "10", "20", "40"}),
                    days = num(r, 7, 21);
  const std::string drug = r.pick(std::vector<std::string>{"metoprolol", "amlodipine", "lisinopril"});
  Sample s = ood(r, "medical", "vital signs, a dose and a follow-up interval");
  s.input = "Patient, " + age + ", came in with a resting heart rate of " + hr + " bpm and blood pressure " + sys +
            "/" + dia + " mmHg. Dr. " + doctor + " started " + drug + " " + mg +
            " mg twice daily and booked a follow-up in " + days + " days.";
  s.gist = fit({"Patient " + age + ": BP " + sys + "/" + dia + ", " + drug + " " + mg + " mg",
                "Patient " + age + " started on " + drug});
  s.summary = "Patient, " + age + ", had a heart rate of " + hr + " bpm and blood pressure of " + sys + "/" + dia +
              " mmHg; Dr. " + doctor + " prescribed " + drug + " " + mg + " mg twice daily, follow-up in " + days +
              " days.";
  s.concepts.insert(s.concepts.end(), {"hypertension", "prescription"});
  s.entity(doctor, "person", "prescribing doctor");
  s.action("prescribed", drug, mg + " mg twice daily");
  s.enums("notable", "neutral", "ongoing", 45);
  return s;
}

Sample ood_sports(Rng& r) {
  const std::vector<std::string> teams =
      r.sample(std::vector<std::string>{"Riverside Rovers", "Northgate United", "Harbor City", "Ashford Town",
                                        "Eastfield Athletic"},
               2);
  const int64_t goals = r.between(2, 5);
  const std::string g1 = std::to_string(goals), g2 = std::to_string(r.between(0, goals - 1));
  const std::string first_name = r.pick(kPeople), scorer = first_name + " " + r.pick(kSurnames),
                    crowd = big(r, 4000, 42000), minute = num(r, 70, 89);
  Sample s = ood(r, "sports", "a score, a scorer, a minute and attendance");
  s.input = teams[0] + " beat " + teams[1] + " " + g1 + "-" + g2 + " on Saturday; " + scorer +
            " scored twice, the winner coming in minute " + minute + ", in front of " + crowd + " fans.";
  s.gist = fit({teams[0] + " beat " + teams[1] + " " + g1 + "-" + g2, teams[0] + " won " + g1 + "-" + g2});
  s.summary = teams[0] + " won " + g1 + "-" + g2 + " against " + teams[1] + "; " + scorer +
              " scored twice, including the winner in minute " + minute + ", before " + crowd + " fans.";
  s.concepts.insert(s.concepts.end(), {"football", "match report"});
  s.entity(teams[0], "team", "winner");
  s.entity(teams[1], "team", "loser");
  s.entity(scorer, "person", "scored twice");
  s.action("beat", teams[1], g1 + "-" + g2);
  s.outcome = "success";
  return s;
}

Sample ood_music(Rng& r) {
  const std::string bpm = num(r, 60, 84), marked = num(r, 88, 112), minutes = num(r, 20, 50), player = r.pick(kPeople);
  const std::string movement = r.pick(std::vector<std::string>{"second", "third", "slow"});
  Sample s = ood(r, "music", "tempos, a duration and who did what");
  s.input = "Quartet rehearsal: we took the " + movement + " movement at " + bpm + " bpm instead of the marked " +
            marked + ", and " + player + " retuned the cello's C string after " + minutes +
            " minutes because it kept drifting flat.";
  s.gist = fit({"Rehearsed the " + movement + " movement at " + bpm + " bpm", "Quartet rehearsal at " + bpm + " bpm"});
  s.summary = "Quartet rehearsal: the " + movement + " movement ran at " + bpm + " bpm against a marked " + marked +
              "; " + player + " retuned the drifting C string after " + minutes + " minutes.";
  s.concepts.insert(s.concepts.end(), {"rehearsal", "tempo"});
  s.entity(player, "person", "cellist who retuned");
  s.action("rehearsed", movement + " movement", bpm + " bpm");
  return s;
}

Sample ood_history(Rng& r) {
  const std::string bridge = r.pick(std::vector<std::string>{"Kingsmere", "Alderton", "Whitcombe"}) + " Bridge";
  const std::string month = r.pick(kMonths), opened = month + expand(r, " {1-28}, {1840-1910}");
  const std::string years = num(r, 3, 11), metres = num(r, 180, 900), cost = big(r, 60000, 480000);
  Sample s = ood(r, "history", "dates, a length and a cost");
  s.input = "The " + bridge + " opened on " + opened + " after " + years + " years of construction. It spans " +
            metres + " metres and cost " + cost + " pounds at the time.";
  s.gist = fit({bridge + " opened " + opened, bridge + " opening"});
  s.summary = "The " + bridge + " opened on " + opened + " after " + years + " years of work; it spans " + metres +
              " metres and cost " + cost + " pounds.";
  s.concepts.insert(s.concepts.end(), {"bridge", "construction"});
  s.entity(bridge, "landmark", "opened " + opened);
  s.action("opened", bridge, opened);
  return s;
}

Sample ood_chemistry(Rng& r) {
  // Tenths of a mL and thousandths of a mole per litre, so the result follows from the inputs.
  const int64_t ml = r.between(200, 500), base = r.between(50, 200), at = r.between(150, 450);
  const std::string volume = fixed(ml, 1), molar = fixed(base, 3), endpoint = fixed(at, 1),
                    conc = fixed((base * at + ml / 2) / ml, 3);
  const std::string indicator =
      r.pick(std::vector<std::string>{"phenolphthalein", "methyl orange", "bromothymol blue"});
  Sample s = ood(r, "chemistry", "volumes and molarities");
  s.input = "Titrated " + volume + " mL of the unknown acid with " + molar + " M NaOH using " + indicator +
            "; the endpoint came at " + endpoint + " mL, which puts the acid at " + conc + " M.";
  s.gist = fit({"Titration: acid at " + conc + " M", "Titration result"});
  s.summary = "Titrated " + volume + " mL of acid with " + molar + " M NaOH; endpoint at " + endpoint + " mL gives " +
              conc + " M.";
  s.concepts.insert(s.concepts.end(), {"titration", "acid"});
  s.entity("NaOH", "chemical", molar + " M titrant");
  s.action("titrated", "unknown acid", "endpoint " + endpoint + " mL");
  s.outcome = "success";
  return s;
}

Sample ood_astronomy(Rng& r) {
  const std::string time = expand(r, "{21-23}:{10-59}"), aperture = num(r, 80, 150), moons = num(r, 2, 4),
                    seeing = num(r, 2, 5), observer = r.pick(kPeople);
  Sample s = ood(r, "astronomy", "a time, an aperture and a seeing rating");
  s.input = "Observed Jupiter at " + time + " with the " + aperture + " mm refractor; " + moons +
            " moons were visible and seeing was " + seeing + "/5. " + observer + " sketched the Great Red Spot.";
  s.gist = fit({"Jupiter at " + time + ", " + moons + " moons, seeing " + seeing + "/5", "Jupiter observation"});
  s.summary = "Observed Jupiter at " + time + " through a " + aperture + " mm refractor with " + moons +
              " moons visible and seeing " + seeing + "/5; " + observer + " sketched the Great Red Spot.";
  s.concepts.insert(s.concepts.end(), {"jupiter", "observing"});
  s.entity("Jupiter", "planet", "observed target");
  s.entity(observer, "person", "sketched the Great Red Spot");
  s.action("observed", "Jupiter", aperture + " mm refractor");
  return s;
}

Sample ood_agriculture(Rng& r) {
  const std::string field = r.pick(std::vector<std::string>{"North", "Ridge", "Creek"}), planted = date(r),
                    seeds = big(r, 60000, 95000), moisture = num(r, 18, 38), rain = num(r, 5, 60);
  const std::string crop = r.pick(std::vector<std::string>{"maize", "soybeans", "sunflowers"});
  Sample s = ood(r, "agriculture", "a planting date, a density and field readings");
  s.input = "The " + field + " field went into " + crop + " on " + planted + " at " + seeds +
            " seeds per hectare. Soil moisture read " + moisture + "% and the forecast shows " + rain +
            " mm of rain this week.";
  s.gist = fit({field + " field: " + crop + " at " + seeds + " seeds/ha", field + " field planted"});
  s.summary = "The " + field + " field was planted with " + crop + " on " + planted + " at " + seeds +
              " seeds per hectare; soil moisture " + moisture + "%, " + rain + " mm of rain expected.";
  s.concepts.insert(s.concepts.end(), {crop, "planting"});
  s.action("planted", crop, seeds + " seeds per hectare");
  return s;
}

Sample ood_finance(Rng& r) {
  const std::string company = r.pick(std::vector<std::string>{"Brightwater", "Calloway", "Meridian"}) + " Foods";
  const int64_t tenths = r.between(1200, 9800);
  const std::string quarter = "Q" + num(r, 1, 4), revenue = fixed(tenths, 1), growth = dec(r, 10, 180),
                    margin = dec(r, 40, 220), guide = fixed(tenths * r.between(95, 115) / 100, 1);
  Sample s = ood(r, "finance", "revenue, growth, margin and guidance");
  s.input = company + " reported " + quarter + " revenue of " + revenue + " million dollars, up " + growth +
            "% year over year, with an operating margin of " + margin + "%. Guidance for next quarter is " + guide +
            " million.";
  s.gist = fit({company + " " + quarter + ": " + revenue + "M revenue, up " + growth + "%",
                company + " " + quarter + " results"});
  s.summary = company + " reported " + quarter + " revenue of " + revenue + " million dollars, up " + growth +
              "%, margin " + margin + "%, guiding " + guide + " million next quarter.";
  s.concepts.insert(s.concepts.end(), {"earnings", "revenue"});
  s.entity(company, "company", "reported " + quarter + " results");
  s.action("reported", quarter + " revenue", revenue + " million dollars");
  return s;
}

Sample ood_architecture(Rng& r) {
  const std::string columns = num(r, 6, 24), spacing = dec(r, 45, 90), tonnes = num(r, 40, 260),
                    target = dec(r, 30, 44), first_name = r.pick(kPeople),
                    architect = first_name + " " + r.pick(kSurnames);
  Sample s = ood(r, "architecture", "member counts, spans and loads");
  s.input = "The atrium scheme uses " + columns + " glulam columns spaced " + spacing + " m apart to carry a " +
            tonnes + "-tonne green roof; " + architect + " wants the spacing cut to " + target + " m.";
  s.gist = fit({"Atrium: " + columns + " glulam columns at " + spacing + " m", "Atrium column layout"});
  s.summary = "The atrium uses " + columns + " glulam columns " + spacing + " m apart under a " + tonnes +
              "-tonne green roof; " + architect + " proposes " + target + " m spacing.";
  s.concepts.insert(s.concepts.end(), {"structure", "timber"});
  s.entity(architect, "person", "wants " + target + " m spacing");
  s.action("proposed", "column spacing", target + " m");
  s.outcome = "ongoing";
  return s;
}

Sample ood_linguistics(Rng& r) {
  const std::string language = r.pick(std::vector<std::string>{"Finnish", "Basque", "Icelandic"});
  const std::string donor = r.pick(std::vector<std::string>{"Swedish", "Latin", "Norse"});
  const std::string tokens = big(r, 200000, 4000000), hits = big(r, 300, 9000), share = num(r, 60, 95),
                    researcher = r.pick(kPeople);
  const std::string suffix = r.pick(std::vector<std::string>{"-sto", "-koa", "-ing"});
  Sample s = ood(r, "linguistics", "corpus counts and a percentage");
  s.input = "In our " + language + " corpus of " + tokens + " tokens the suffix " + suffix + " turns up " + hits +
            " times, " + share + "% of them after a vowel; " + researcher + " thinks it was borrowed from " + donor +
            ".";
  s.gist = fit({language + " suffix " + suffix + ": " + hits + " hits", language + " suffix count"});
  s.summary = "In a " + language + " corpus of " + tokens + " tokens, " + suffix + " occurs " + hits + " times, " +
              share + "% after vowels; " + researcher + " suspects a " + donor + " borrowing.";
  s.concepts.insert(s.concepts.end(), {"morphology", "corpus"});
  s.entity(language, "language", "corpus language");
  s.entity(researcher, "person", "suspects a borrowing from " + donor);
  s.action("counted", "suffix " + suffix, hits + " occurrences");
  return s;
}

Sample ood_aviation(Rng& r) {
  const std::string airline = r.pick(std::vector<std::string>{"EI", "BA", "LH"}), flight = airline + num(r, 100, 989);
  const std::string airport = r.pick(std::vector<std::string>{"Shannon", "Keflavik", "Gander"});
  const std::string level = "FL" + std::to_string(10 * r.between(30, 39)), minutes = num(r, 18, 55),
                    pax = num(r, 120, 290), crew = num(r, 8, 14);
  Sample s = ood(r, "aviation", "a flight level, a duration and head counts");
  s.input = "Flight " + flight + " diverted to " + airport + " from " + level +
            " after a cabin pressure warning. It landed " + minutes + " minutes later with " + pax +
            " passengers and " + crew + " crew, all unhurt.";
  s.gist = fit({"Flight " + flight + " diverted to " + airport + " from " + level, "Flight " + flight + " diversion"});
  s.summary = "Flight " + flight + " left " + level + " on a cabin pressure warning and landed at " + airport + " " +
              minutes + " minutes later; " + pax + " passengers and " + crew + " crew were unhurt.";
  s.concepts.insert(s.concepts.end(), {"diversion", "cabin pressure"});
  s.entity(airport, "airport", "diversion airport");
  s.action("diverted", "flight " + flight, "landed after " + minutes + " minutes");
  s.enums("notable", "neutral", "success", 45);
  return s;
}

Sample ood_geology(Rng& r) {
  const std::string core = "C-" + num(r, 10, 99), depth = big(r, 300, 2400), band = num(r, 12, 90),
                    age = num(r, 40, 320), porosity = dec(r, 30, 260);
  const std::string rock = r.pick(std::vector<std::string>{"basalt", "shale", "dolomite"});
  Sample s = ood(r, "geology", "depths, a thickness, an age and a porosity");
  s.input = "Core " + core + " from " + depth + " m shows a " + band + " cm band of " + rock + " dated to roughly " +
            age + " million years; porosity measured " + porosity + "%.";
  s.gist =
      fit({"Core " + core + ": " + band + " cm " + rock + " band at " + depth + " m", "Core " + core + " findings"});
  s.summary = "Core " + core + ", taken at " + depth + " m, has a " + band + " cm " + rock + " band about " + age +
              " million years old with " + porosity + "% porosity.";
  s.concepts.insert(s.concepts.end(), {rock, "core sample"});
  s.action("measured", "porosity", porosity + "%");
  return s;
}

Sample ood_nutrition(Rng& r) {
  const std::string grams = num(r, 100, 250), kcal = num(r, 110, 380), protein = dec(r, 60, 260),
                    fibre = dec(r, 30, 160), target = num(r, 90, 160), person = r.pick(kPeople);
  const std::string food = r.pick(std::vector<std::string>{"cooked lentils", "chickpeas", "tofu"});
  Sample s = ood(r, "nutrition", "a serving size and its macros");
  s.input = "A " + grams + " g serving of " + food + " has " + kcal + " kcal, " + protein + " g protein and " + fibre +
            " g fibre. " + person + " is aiming for " + target + " g of protein a day.";
  s.gist = fit({grams + " g " + food + ": " + kcal + " kcal, " + protein + " g protein", food + " macros"});
  s.summary = person + " is aiming for " + target + " g of protein a day; " + grams + " g of " + food + " gives " +
              kcal + " kcal, " + protein + " g protein and " + fibre + " g fibre.";
  s.concepts.insert(s.concepts.end(), {"protein", "diet"});
  s.entity(person, "person", "protein target " + target + " g");
  s.action("tracked", "protein intake", target + " g a day target");
  return s;
}

Sample ood_photography(Rng& r) {
  const std::string aperture = "f/" + std::to_string(r.pick(std::vector<int>{4, 8, 11, 16}));
  const std::string shutter = "1/" + std::to_string(r.pick(std::vector<int>{60, 125, 250, 500})),
                    iso = std::to_string(r.pick(std::vector<int>{100, 200, 400, 800})), lens = num(r, 24, 200),
                    sharp = num(r, 5, 30), total = num(r, 31, 80);
  Sample s = ood(r, "photography", "exposure settings and a keeper count");
  s.input = "Shot the harbour at dusk at " + aperture + ", " + shutter + " s, ISO " + iso + " on the " + lens +
            " mm lens; " + sharp + " of " + total + " frames came out sharp.";
  s.gist = fit({"Harbour at dusk: " + aperture + ", " + shutter + " s, ISO " + iso, "Harbour dusk shoot"});
  s.summary = "Harbour shoot at dusk with " + aperture + ", " + shutter + " s, ISO " + iso + " and a " + lens +
              " mm lens; " + sharp + " of " + total + " frames were sharp.";
  s.concepts.insert(s.concepts.end(), {"exposure", "landscape"});
  s.action("shot", "harbour at dusk", sharp + " of " + total + " sharp");
  return s;
}

Sample ood_meteorology(Rng& r) {
  const std::string town = r.pick(std::vector<std::string>{"Ballymore", "Tarrant", "Ostervik"}),
                    rain = dec(r, 200, 1100), hours = num(r, 3, 12), gust = num(r, 70, 140),
                    pressure = num(r, 962, 995), when = date(r);
  Sample s = ood(r, "meteorology", "rainfall, wind and pressure readings");
  s.input = "The station at " + town + " logged " + rain + " mm of rain in " + hours + " hours on " + when +
            ", with gusts to " + gust + " km/h and pressure bottoming out at " + pressure + " hPa.";
  s.gist = fit({town + ": " + rain + " mm of rain in " + hours + " hours", town + " storm readings"});
  s.summary = "The " + town + " station recorded " + rain + " mm of rain in " + hours + " hours on " + when +
              ", gusts of " + gust + " km/h and a low of " + pressure + " hPa.";
  s.concepts.insert(s.concepts.end(), {"storm", "rainfall"});
  s.entity(town, "location", "weather station");
  s.action("logged", "rainfall", rain + " mm");
  return s;
}

Sample ood_logistics(Rng& r) {
  const std::vector<std::string> ports =
      r.sample(std::vector<std::string>{"Rotterdam", "Antwerp", "Felixstowe", "Hamburg"}, 2);
  const std::string container = "MSKU" + num(r, 1000000, 9999999), pallets = num(r, 18, 33), kg = big(r, 8000, 26000),
                    days = num(r, 2, 9), when = date(r);
  Sample s = ood(r, "logistics", "a container number, a weight and an arrival estimate");
  s.input = "Container " + container + " left " + ports[0] + " on " + when + " with " + pallets + " pallets (" + kg +
            " kg gross); it is due in " + ports[1] + " in " + days + " days.";
  s.gist =
      fit({container + ": " + ports[0] + " to " + ports[1] + ", " + pallets + " pallets", container + " shipment"});
  s.summary = "Container " + container + " departed " + ports[0] + " on " + when + " carrying " + pallets +
              " pallets, " + kg + " kg gross, due in " + ports[1] + " in " + days + " days.";
  s.concepts.insert(s.concepts.end(), {"shipping", "container"});
  s.entity(container, "container", "in transit");
  s.entity(ports[1], "port", "destination");
  s.action("shipped", pallets + " pallets", ports[0] + " to " + ports[1]);
  s.outcome = "ongoing";
  return s;
}

Sample ood_education(Rng& r) {
  const int64_t total = r.between(22, 34);
  const std::string passed = std::to_string(r.between(total / 2, total)), of = std::to_string(total),
                    median = num(r, 58, 84), teacher = r.pick(kPeople);
  Sample s = ood(r, "education", "pass counts and a median score");
  s.input = passed + " of " + of + " students passed the algebra midterm and the median was " + median + "/100. " +
            teacher + " will reteach quadratic equations next week.";
  s.gist = fit(
      {"Algebra midterm: " + passed + " of " + of + " passed, median " + median + "/100", "Algebra midterm results"});
  s.summary = passed + " of " + of + " students passed the algebra midterm with a median of " + median + "/100; " +
              teacher + " will reteach quadratic equations.";
  s.concepts.insert(s.concepts.end(), {"exam results", "algebra"});
  s.entity(teacher, "person", "reteaching quadratics");
  s.action("passed", "algebra midterm", passed + " of " + of + " students");
  return s;
}

Sample ood_automotive(Rng& r) {
  const std::string year = num(r, 2009, 2021), model = r.pick(std::vector<std::string>{"Corolla", "Golf", "Civic"}),
                    km = big(r, 60000, 240000), cylinder = num(r, 1, 4), rpm = num(r, 650, 850);
  Sample s = ood(r, "automotive", "a mileage, a cylinder number and an idle speed");
  s.input = "The " + year + " " + model + " came in at " + km + " km with a misfire on cylinder " + cylinder +
            ". Swapped the coil pack and all four plugs; idle is steady at " + rpm + " rpm now.";
  s.gist = fit({year + " " + model + ": misfire on cylinder " + cylinder + " fixed", model + " misfire fixed"});
  s.summary = "The " + year + " " + model + " at " + km + " km had a cylinder " + cylinder +
              " misfire; a new coil pack and plugs brought idle to a steady " + rpm + " rpm.";
  s.concepts.insert(s.concepts.end(), {"misfire", "repair"});
  s.entity(model, "vehicle", year + " model at " + km + " km");
  s.action("replaced", "coil pack and plugs", "cylinder " + cylinder + " misfire");
  s.outcome = "success";
  return s;
}

Sample ood_marine(Rng& r) {
  const std::string turtles = num(r, 6, 48), transect = dec(r, 10, 60), temp = dec(r, 240, 310), delta = dec(r, 5, 25),
                    reef = r.pick(std::vector<std::string>{"Coral Bay", "Pelican Point", "Turtle Rock"});
  Sample s = ood(r, "marine biology", "a count, a distance and water temperatures");
  s.input = "Counted " + turtles + " green sea turtles along the " + transect + " km transect off " + reef +
            ". Water was " + temp + "°C, " + delta + " degrees above the seasonal average.";
  s.gist = fit({turtles + " green turtles on the " + reef + " transect", "Turtle count off " + reef});
  s.summary = "Counted " + turtles + " green sea turtles over " + transect + " km off " + reef + " in water at " +
              temp + "°C, " + delta + " degrees above average.";
  s.concepts = {"marine biology", "survey", "sea turtles"};
  s.entity(reef, "location", "survey site");
  s.action("counted", "green sea turtles", turtles);
  return s;
}

Sample ood_archaeology(Rng& r) {
  const std::string trench = num(r, 2, 14),
                    site = r.pick(std::vector<std::string>{"Hollow Hill", "Stanmore", "Dunrae"}),
                    sherds = num(r, 20, 240), depth = num(r, 40, 180), era = num(r, 800, 2400), lead = r.pick(kPeople);
  Sample s = ood(r, "archaeology", "find counts, a depth and a date estimate");
  s.input = "Trench " + trench + " at the " + site + " dig turned up " + sherds +
            " pottery sherds and a bronze pin at " + depth + " cm. " + lead + " puts the layer at about " + era +
            " BC.";
  s.gist = fit({"Trench " + trench + ": " + sherds + " sherds and a bronze pin", "Trench " + trench + " finds"});
  s.summary = "Trench " + trench + " at " + site + " yielded " + sherds + " sherds and a bronze pin at " + depth +
              " cm; " + lead + " dates the layer to about " + era + " BC.";
  s.concepts.insert(s.concepts.end(), {"excavation", "pottery"});
  s.entity(lead, "person", "dated the layer");
  s.action("excavated", "trench " + trench, sherds + " sherds");
  return s;
}

Sample ood_energy(Rng& r) {
  const std::string mw = num(r, 20, 180), mwh = big(r, 2000, 30000), factor = dec(r, 90, 290),
                    town = r.pick(std::vector<std::string>{"Millbrook", "Castlerea", "Vendsyssel"}),
                    month = r.pick(kMonths);
  Sample s = ood(r, "energy", "capacity, output and a capacity factor");
  s.input = "The " + mw + " MW solar farm near " + town + " produced " + mwh + " MWh in " + month +
            ", a capacity factor of " + factor + "%.";
  s.gist = fit({"Solar farm near " + town + ": " + mwh + " MWh", "Solar output near " + town + " in MWh"});
  s.summary = "The " + mw + " MW solar farm near " + town + " generated " + mwh + " MWh in " + month + " at a " +
              factor + "% capacity factor.";
  s.concepts.insert(s.concepts.end(), {"solar", "generation"});
  s.entity(town, "location", "solar farm site");
  s.action("produced", "electricity", mwh + " MWh");
  return s;
}

}  // namespace

const std::vector<Template>& out_of_domain_templates() {
  static const std::vector<Template> templates = {
      ood_cooking,   ood_legal,      ood_medical,     ood_sports,      ood_music,        ood_history,
      ood_chemistry, ood_astronomy,  ood_agriculture, ood_finance,     ood_architecture, ood_linguistics,
      ood_aviation,  ood_geology,    ood_nutrition,   ood_photography, ood_meteorology,  ood_logistics,
      ood_education, ood_automotive, ood_marine,      ood_archaeology, ood_energy};
  return templates;
}

}  // namespace bespoke::task::encoding::samples
