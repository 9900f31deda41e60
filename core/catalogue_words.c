/* The catalogue's word lists, sentence pools and tool families (core/catalogue_internal.h): data
 * only. Lists run from most to least common (core/catalogue.c picks with a power law). */
#include "core/catalogue_internal.h"

#define CATALOGUE_COUNT(name) const size_t name##_count = sizeof name / sizeof name[0]

const catalogue_subject catalogue_subjects[] = {
    {"json", "JSON", "JSON documents", "data"},
    {"csv", "CSV", "CSV files", "data"},
    {"text", "Text", "plain text", "text"},
    {"markdown", "Markdown", "Markdown notes", "text"},
    {"url", "URL", "URLs", "web"},
    {"email", "Email", "email addresses", "productivity"},
    {"log", "Log", "log files", "developer-tools"},
    {"date", "Date", "dates and times", "productivity"},
    {"password", "Password", "passwords", "security"},
    {"invoice", "Invoice", "invoices", "finance"},
    {"image", "Image", "image metadata", "media"},
    {"yaml", "YAML", "YAML configs", "developer-tools"},
    {"html", "HTML", "HTML pages", "web"},
    {"sql", "SQL", "SQL queries", "developer-tools"},
    {"price", "Price", "price lists", "finance"},
    {"number", "Number", "lists of numbers", "math"},
    {"unit", "Unit", "measurements", "math"},
    {"color", "Color", "color codes", "media"},
    {"regex", "Regex", "regular expressions", "developer-tools"},
    {"hash", "Hash", "checksums", "security"},
    {"xml", "XML", "XML feeds", "data"},
    {"api", "API", "API responses", "web"},
    {"budget", "Budget", "budgets", "finance"},
    {"cron", "Cron", "cron schedules", "productivity"},
    {"uuid", "UUID", "identifiers", "developer-tools"},
    {"token", "Token", "access tokens", "security"},
    {"matrix", "Matrix", "matrices", "math"},
    {"video", "Video", "video timestamps", "media"},
    {"timezone", "Timezone", "time zones", "productivity"},
    {"tax", "Tax", "tax rates", "finance"},
    {"sitemap", "Sitemap", "sitemaps", "web"},
    {"ip", "IP", "IP addresses", "security"},
    {"stats", "Stats", "datasets", "math"},
    {"audio", "Audio", "audio durations", "media"},
    {"note", "Note", "meeting notes", "productivity"},
    {"currency", "Currency", "currency amounts", "finance"},
    {"dns", "DNS", "DNS records", "web"},
    {"git", "Git", "commit messages", "developer-tools"},
    {"spreadsheet", "Spreadsheet", "spreadsheets", "data"},
    {"geo", "Geo", "coordinates", "data"},
    {"recipe", "Recipe", "recipes", "other"},
    {"fitness", "Fitness", "workout logs", "other"},
    {"weather", "Weather", "weather readings", "other"},
    {"loan", "Loan", "loan schedules", "finance"},
    {"prime", "Prime", "integers", "math"},
    {"subtitle", "Subtitle", "subtitle files", "media"},
    {"license", "License", "license keys", "security"},
    {"calendar", "Calendar", "calendar events", "productivity"},
    {"emoji", "Emoji", "emoji", "text"},
    {"haiku", "Haiku", "short poems", "other"},
};
CATALOGUE_COUNT(catalogue_subjects);

const catalogue_action catalogue_actions[] = {
    {"converter", "Converts"},
    {"validator", "Validates"},
    {"formatter", "Formats"},
    {"cleaner", "Cleans"},
    {"parser", "Parses"},
    {"diff", "Compares"},
    {"generator", "Generates"},
    {"counter", "Counts"},
    {"analyzer", "Analyzes"},
    {"extractor", "Extracts fields from"},
    {"checker", "Checks"},
    {"calculator", "Calculates totals for"},
    {"minifier", "Minifies"},
    {"encoder", "Encodes"},
    {"merger", "Merges"},
    {"splitter", "Splits"},
    {"sorter", "Sorts"},
    {"deduper", "Removes duplicates from"},
    {"summarizer", "Summarizes"},
    {"linter", "Lints"},
    {"normalizer", "Normalizes"},
    {"sanitizer", "Sanitizes"},
    {"inspector", "Inspects"},
    {"tracker", "Tracks"},
    {"scanner", "Scans"},
    {"optimizer", "Optimizes"},
    {"translator", "Translates"},
    {"builder", "Builds"},
    {"exporter", "Exports"},
    {"viewer", "Shows"},
};
CATALOGUE_COUNT(catalogue_actions);

const char *const catalogue_adjectives[] = {
    "Fast", "Simple", "Smart", "Tiny", "Quick", "Secure", "Bulk", "Instant", "Handy", "Precise", "Clean", "Easy",
    "Micro", "Super", "Open", "Lean", "Robust", "Friendly", "Offline", "Turbo", "Accurate", "Minimal", "Reliable",
    "Modern", "Pocket", "Zen", "Swift", "Nimble", "Solid", "Clever",
};
CATALOGUE_COUNT(catalogue_adjectives);

const char *const catalogue_qualifiers[] = {
    "in one call", "without any setup", "in milliseconds", "with clear error messages", "for large batches",
    "right from your pipeline", "with sensible defaults", "safely and predictably", "without sending data anywhere",
    "for teams and solo developers", "with a tiny footprint", "in a single request", "with zero configuration",
    "for everyday work", "at scale", "the boring way, so you do not have to", "for spreadsheets and scripts alike",
    "before they reach production", "with a readable report", "on the fly",
};
CATALOGUE_COUNT(catalogue_qualifiers);

const char *const catalogue_sentences[] = {
    "Works with any input your workflow produces.", "Paste your %s and get a clean result back in one request.",
    "Runs in the marketplace sandbox, so your data never leaves it.", "Handles large inputs without slowing down.",
    "Typed input and output schemas make it easy to call from scripts.",
    "Every release ships with tests that prove it works.",
    "Great for automation, CI pipelines and quick one-off jobs.", "No account on another service is needed.",
    "Errors say exactly which field was wrong.", "Built by a developer who got tired of doing this by hand.",
    "Ideal for data teams who handle %s every day.",
    "Deterministic output: the same input always gives the same result.", "The free tier covers most personal use.",
    "Pairs well with the other tools of its category.",
    "Designed for people who work with %s and want fewer surprises.",
    "Results come back as plain JSON you can feed into the next step.",
    "Tested against thousands of real-world %s.", "Small, focused and easy to reason about.",
    "Use it from the command line, a notebook or your own backend.",
    "Unicode is handled correctly, including emoji and accents.",
    "Fewer clicks than a spreadsheet formula and easier to share.",
    "Version pinning keeps your integrations stable.", "Feedback from reviewers shaped most of its options.",
    "Accountants, analysts and engineers use it for %s.", "Nothing is stored after the run finishes.",
    "Supports batches, so one call can cover a whole export.", "A favourite for cleaning up %s before an import.",
    "Written in plain Lua with no hidden dependencies.", "Lightweight enough to run on every commit.",
    "Helpful defaults mean most calls need a single field.", "Compatible with exports from popular office suites.",
    "Handy during code review, audits and migrations.", "Students use it to check homework involving %s.",
    "Privacy friendly by design: no tracking, no logs of your input.",
    "Open about its limits: inputs beyond the schema are refused with a clear message.",
    "Maintained actively, with small releases every few weeks.",
    "Saves an afternoon of scripting for anyone juggling %s.", "Quirky edge cases are documented in the tests.",
    "Made for teams that value predictable tooling.", "Occasionally used for art projects built from %s.",
};
CATALOGUE_COUNT(catalogue_sentences);

const char *const catalogue_extra_tags[] = {
    "automation", "cli", "batch", "api", "productivity", "open-source", "devops", "beginner-friendly", "realtime",
    "privacy", "reporting", "integration", "no-code", "testing", "students", "enterprise", "utility", "analytics",
    "cleanup", "accessibility", "education", "compliance", "scripting", "offline", "ecommerce", "research",
    "marketing", "startups", "hobby", "legacy",
};
CATALOGUE_COUNT(catalogue_extra_tags);

const char *const catalogue_first_names[] = {
    "Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Dennis", "Frances", "Ken", "Radia", "Tim", "Hedy",
    "Guido", "Anita", "Donald", "Edsger", "Katherine", "Bjarne", "Sophie", "John", "Mary", "Niklaus", "Joan",
    "Ivan", "Leslie", "Ole", "Rasmus", "Yukihiro", "Shafi", "Annie",
};
CATALOGUE_COUNT(catalogue_first_names);

const char *const catalogue_last_names[] = {
    "Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Liskov", "Ritchie", "Allen", "Thompson", "Perlman",
    "Berners", "Lamarr", "Rossum", "Borg", "Knuth", "Dijkstra", "Johnson", "Stroustrup", "Wilson", "McCarthy",
    "Keller", "Wirth", "Clarke", "Sutherland", "Lamport", "Dahl", "Lerdorf", "Matsumoto", "Goldwasser", "Easley",
};
CATALOGUE_COUNT(catalogue_last_names);

const char *const catalogue_studio_words[] = {
    "Bright", "Cedar", "Copper", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Indigo", "Juniper", "Kestrel",
    "Lumen", "Maple", "Nimbus", "Orbit", "Pine", "Quartz", "Rowan", "Summit", "Tidal", "Umber", "Vector", "Willow",
    "Zenith", "Atlas", "Beacon", "Comet", "Drift", "Echo", "Flint",
};
CATALOGUE_COUNT(catalogue_studio_words);

const char *const catalogue_studio_suffixes[] = {
    "Labs", "Tools", "Software", "Works", "Studio", "Systems", "Dev", "Collective",
};
CATALOGUE_COUNT(catalogue_studio_suffixes);

const char *const catalogue_review_titles_good[] = {
    "Does exactly what it says", "Saved me hours", "Solid and fast", "Works great", "Exactly what I needed",
    "Reliable every time", "Best in its category", "Clean output, clear errors",
};
CATALOGUE_COUNT(catalogue_review_titles_good);

const char *const catalogue_review_titles_mixed[] = {
    "Good but could be faster", "Does the job", "Decent, a few rough edges", "Useful with caveats",
    "Okay for small inputs", "Fine for now",
};
CATALOGUE_COUNT(catalogue_review_titles_mixed);

const char *const catalogue_review_titles_bad[] = {
    "Did not work for me", "Too limited", "Confusing results", "Not worth the price", "Broke on my input",
    "Needs more options",
};
CATALOGUE_COUNT(catalogue_review_titles_bad);

const char *const catalogue_review_lines_good[] = {
    "I use it daily for %s and it never lets me down.", "Replaced a messy script of ours in minutes.",
    "Clear schema, sensible output, quick answers.", "Setup took seconds and the results were spot on.",
    "Handles our %s without complaint.", "The tests in the listing gave me confidence to adopt it.",
};
CATALOGUE_COUNT(catalogue_review_lines_good);

const char *const catalogue_review_lines_mixed[] = {
    "Works for the common cases, struggles a bit with unusual %s.",
    "Does what it says, though the output format could be richer.", "Useful, but I wish it handled larger batches.",
    "Good value, a couple of options are missing.",
};
CATALOGUE_COUNT(catalogue_review_lines_mixed);

const char *const catalogue_review_lines_bad[] = {
    "It rejected %s that other tools accept.", "The output was not what the description promised.",
    "Too basic for real work.", "I could not get a useful result out of it.",
};
CATALOGUE_COUNT(catalogue_review_lines_bad);

const char *const catalogue_changelogs[] = {
    "Initial release.", "Faster on large inputs; clearer error messages.", "New options and better defaults.",
    "Fixes an edge case reported by a reviewer.", "Documentation and test improvements.",
};
CATALOGUE_COUNT(catalogue_changelogs);

const catalogue_category_families catalogue_category_map[] = {
    {"text", {"word_count", "change_case"}},
    {"data", {"number_stats", "dedupe_lines"}},
    {"developer-tools", {"hex_encode", "slugify"}},
    {"finance", {"fee_split", NULL}},
    {"math", {"gcd_lcm", "temperature"}},
    {"media", {"aspect_ratio", NULL}},
    {"productivity", {"duration", "word_count"}},
    {"security", {"hex_encode", NULL}},
    {"web", {"url_encode", "slugify"}},
    {"other", {"word_count", "number_stats"}},
};
CATALOGUE_COUNT(catalogue_category_map);

/* Each family: key, input schema, output schema, code, tests. Every test passes (e2e.seed and
 * integration.catalogue run them). */
const catalogue_family catalogue_families[] = {
    {"word_count",
     "{\"type\":\"object\",\"required\":[\"text\"],\"additionalProperties\":false,\"properties\":{\"text\":{\"type\":\"string\",\"maxLength\":100000}}}",
     "{\"type\":\"object\",\"required\":[\"words\",\"characters\"],\"properties\":{\"words\":{\"type\":\"integer\"},\"characters\":{\"type\":\"integer\"}}}",
     "function handler(input)\n"
        "  local words = 0\n"
        "  for _ in string.gmatch(input.text, '%S+') do words = words + 1 end\n"
        "  return {words = words, characters = utf8.len(input.text)}\n"
        "end\n",
     "[{\"name\":\"two words\",\"input\":{\"text\":\"hello world\"},\"expected\":{\"words\":2,\"characters\":11}},{\"name\":\"empty\",\"input\":{\"text\":\"\"},\"expected\":{\"words\":0,\"characters\":0}}]"},
    {"change_case",
     "{\"type\":\"object\",\"required\":[\"text\",\"mode\"],\"additionalProperties\":false,\"properties\":{\"text\":{\"type\":\"string\",\"maxLength\":100000},\"mode\":{\"type\":\"string\",\"enum\":[\"upper\",\"lower\",\"title\"]}}}",
     "{\"type\":\"object\",\"required\":[\"text\"],\"properties\":{\"text\":{\"type\":\"string\"}}}",
     "function handler(input)\n"
        "  local text = input.text\n"
        "  if input.mode == 'upper' then return {text = string.upper(text)} end\n"
        "  if input.mode == 'lower' then return {text = string.lower(text)} end\n"
        "  local title = string.gsub(string.lower(text), '(%a)(%a*)', function(first, rest)\n"
        "    return string.upper(first) .. rest\n"
        "  end)\n"
        "  return {text = title}\n"
        "end\n",
     "[{\"name\":\"title case\",\"input\":{\"text\":\"hello big world\",\"mode\":\"title\"},\"expected\":{\"text\":\"Hello Big World\"}},{\"name\":\"upper case\",\"input\":{\"text\":\"MiXed\",\"mode\":\"upper\"},\"expected\":{\"text\":\"MIXED\"}}]"},
    {"number_stats",
     "{\"type\":\"object\",\"required\":[\"numbers\"],\"additionalProperties\":false,\"properties\":{\"numbers\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":10000,\"items\":{\"type\":\"number\"}}}}",
     "{\"type\":\"object\",\"required\":[\"count\",\"sum\",\"min\",\"max\"],\"properties\":{\"count\":{\"type\":\"integer\"},\"sum\":{\"type\":\"number\"},\"min\":{\"type\":\"number\"},\"max\":{\"type\":\"number\"}}}",
     "function handler(input)\n"
        "  local n = input.numbers\n"
        "  local sum, lo, hi = 0, n[1], n[1]\n"
        "  for _, x in ipairs(n) do\n"
        "    sum = sum + x\n"
        "    if x < lo then lo = x end\n"
        "    if x > hi then hi = x end\n"
        "  end\n"
        "  return {count = #n, sum = sum, min = lo, max = hi}\n"
        "end\n",
     "[{\"name\":\"three numbers\",\"input\":{\"numbers\":[3,1,2]},\"expected\":{\"count\":3,\"sum\":6,\"min\":1,\"max\":3}},{\"name\":\"fractions\",\"input\":{\"numbers\":[-2.5,4]},\"expected\":{\"count\":2,\"sum\":1.5,\"min\":-2.5,\"max\":4}}]"},
    {"dedupe_lines",
     "{\"type\":\"object\",\"required\":[\"lines\"],\"additionalProperties\":false,\"properties\":{\"lines\":{\"type\":\"array\",\"maxItems\":10000,\"items\":{\"type\":\"string\",\"maxLength\":10000}}}}",
     "{\"type\":\"object\",\"required\":[\"lines\",\"removed\"],\"properties\":{\"lines\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},\"removed\":{\"type\":\"integer\"}}}",
     "function handler(input)\n"
        "  local seen, lines, removed = {}, json.array(), 0\n"
        "  for _, line in ipairs(input.lines) do\n"
        "    local clean = string.match(line, '^%s*(.-)%s*$')\n"
        "    if seen[clean] then\n"
        "      removed = removed + 1\n"
        "    else\n"
        "      seen[clean] = true\n"
        "      lines[#lines + 1] = clean\n"
        "    end\n"
        "  end\n"
        "  return {lines = lines, removed = removed}\n"
        "end\n",
     "[{\"name\":\"duplicates\",\"input\":{\"lines\":[\"a\",\" a \",\"b\",\"a\"]},\"expected\":{\"lines\":[\"a\",\"b\"],\"removed\":2}},{\"name\":\"nothing\",\"input\":{\"lines\":[]},\"expected\":{\"lines\":[],\"removed\":0}}]"},
    {"slugify",
     "{\"type\":\"object\",\"required\":[\"text\"],\"additionalProperties\":false,\"properties\":{\"text\":{\"type\":\"string\",\"maxLength\":10000}}}",
     "{\"type\":\"object\",\"required\":[\"slug\"],\"properties\":{\"slug\":{\"type\":\"string\"}}}",
     "function handler(input)\n"
        "  local slug = string.gsub(string.lower(input.text), '[^a-z0-9]+', '-')\n"
        "  slug = string.gsub(slug, '^%-+', '')\n"
        "  slug = string.gsub(slug, '%-+$', '')\n"
        "  return {slug = slug}\n"
        "end\n",
     "[{\"name\":\"punctuation\",\"input\":{\"text\":\"Hello, World!\"},\"expected\":{\"slug\":\"hello-world\"}},{\"name\":\"accents and spaces\",\"input\":{\"text\":\"  D\303\251j\303\240 vu 2 \"},\"expected\":{\"slug\":\"d-j-vu-2\"}}]"},
    {"fee_split",
     "{\"type\":\"object\",\"required\":[\"amount_cents\",\"rate_bps\"],\"additionalProperties\":false,\"properties\":{\"amount_cents\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":1000000000000},\"rate_bps\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":10000}}}",
     "{\"type\":\"object\",\"required\":[\"fee_cents\",\"net_cents\"],\"properties\":{\"fee_cents\":{\"type\":\"integer\"},\"net_cents\":{\"type\":\"integer\"}}}",
     "function handler(input)\n"
        "  local fee = input.amount_cents * input.rate_bps // 10000\n"
        "  return {fee_cents = fee, net_cents = input.amount_cents - fee}\n"
        "end\n",
     "[{\"name\":\"2.5 percent\",\"input\":{\"amount_cents\":10000,\"rate_bps\":250},\"expected\":{\"fee_cents\":250,\"net_cents\":9750}},{\"name\":\"rounds down\",\"input\":{\"amount_cents\":999,\"rate_bps\":3000},\"expected\":{\"fee_cents\":299,\"net_cents\":700}}]"},
    {"gcd_lcm",
     "{\"type\":\"object\",\"required\":[\"a\",\"b\"],\"additionalProperties\":false,\"properties\":{\"a\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000000000},\"b\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000000000}}}",
     "{\"type\":\"object\",\"required\":[\"gcd\",\"lcm\"],\"properties\":{\"gcd\":{\"type\":\"integer\"},\"lcm\":{\"type\":\"integer\"}}}",
     "function handler(input)\n"
        "  local a, b = input.a, input.b\n"
        "  while b ~= 0 do a, b = b, a % b end\n"
        "  return {gcd = a, lcm = input.a // a * input.b}\n"
        "end\n",
     "[{\"name\":\"twelve and eighteen\",\"input\":{\"a\":12,\"b\":18},\"expected\":{\"gcd\":6,\"lcm\":36}},{\"name\":\"coprime\",\"input\":{\"a\":7,\"b\":5},\"expected\":{\"gcd\":1,\"lcm\":35}}]"},
    {"temperature",
     "{\"type\":\"object\",\"required\":[\"celsius\"],\"additionalProperties\":false,\"properties\":{\"celsius\":{\"type\":\"number\",\"minimum\":-273.15,\"maximum\":1000000}}}",
     "{\"type\":\"object\",\"required\":[\"fahrenheit\",\"kelvin\"],\"properties\":{\"fahrenheit\":{\"type\":\"number\"},\"kelvin\":{\"type\":\"number\"}}}",
     "function handler(input)\n"
        "  local c = input.celsius\n"
        "  return {fahrenheit = c * 9 / 5 + 32, kelvin = c + 273.15}\n"
        "end\n",
     "[{\"name\":\"freezing\",\"input\":{\"celsius\":0},\"expected\":{\"fahrenheit\":32,\"kelvin\":273.15}},{\"name\":\"boiling\",\"input\":{\"celsius\":100},\"expected\":{\"fahrenheit\":212,\"kelvin\":373.15}}]"},
    {"hex_encode",
     "{\"type\":\"object\",\"required\":[\"text\"],\"additionalProperties\":false,\"properties\":{\"text\":{\"type\":\"string\",\"maxLength\":10000}}}",
     "{\"type\":\"object\",\"required\":[\"hex\"],\"properties\":{\"hex\":{\"type\":\"string\"}}}",
     "function handler(input)\n"
        "  local hex = string.gsub(input.text, '.', function(c) return string.format('%02x', string.byte(c)) end)\n"
        "  return {hex = hex}\n"
        "end\n",
     "[{\"name\":\"two letters\",\"input\":{\"text\":\"Hi\"},\"expected\":{\"hex\":\"4869\"}},{\"name\":\"empty\",\"input\":{\"text\":\"\"},\"expected\":{\"hex\":\"\"}}]"},
    {"url_encode",
     "{\"type\":\"object\",\"required\":[\"text\"],\"additionalProperties\":false,\"properties\":{\"text\":{\"type\":\"string\",\"maxLength\":10000}}}",
     "{\"type\":\"object\",\"required\":[\"encoded\"],\"properties\":{\"encoded\":{\"type\":\"string\"}}}",
     "function handler(input)\n"
        "  local encoded = string.gsub(input.text, '[^%w%-%._~]', function(c) return string.format('%%%02X', string.byte(c)) end)\n"
        "  return {encoded = encoded}\n"
        "end\n",
     "[{\"name\":\"space and ampersand\",\"input\":{\"text\":\"a b&c\"},\"expected\":{\"encoded\":\"a%20b%26c\"}},{\"name\":\"unreserved\",\"input\":{\"text\":\"safe-._~\"},\"expected\":{\"encoded\":\"safe-._~\"}}]"},
    {"aspect_ratio",
     "{\"type\":\"object\",\"required\":[\"width\",\"height\"],\"additionalProperties\":false,\"properties\":{\"width\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000000},\"height\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000000}}}",
     "{\"type\":\"object\",\"required\":[\"ratio\"],\"properties\":{\"ratio\":{\"type\":\"string\"}}}",
     "function handler(input)\n"
        "  local a, b = input.width, input.height\n"
        "  while b ~= 0 do a, b = b, a % b end\n"
        "  return {ratio = (input.width // a) .. ':' .. (input.height // a)}\n"
        "end\n",
     "[{\"name\":\"full hd\",\"input\":{\"width\":1920,\"height\":1080},\"expected\":{\"ratio\":\"16:9\"}},{\"name\":\"square\",\"input\":{\"width\":1000,\"height\":1000},\"expected\":{\"ratio\":\"1:1\"}}]"},
    {"duration",
     "{\"type\":\"object\",\"required\":[\"seconds\"],\"additionalProperties\":false,\"properties\":{\"seconds\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":1000000000}}}",
     "{\"type\":\"object\",\"required\":[\"text\"],\"properties\":{\"text\":{\"type\":\"string\"}}}",
     "function handler(input)\n"
        "  local s = input.seconds\n"
        "  local parts = {}\n"
        "  if s >= 3600 then parts[#parts + 1] = (s // 3600) .. 'h' end\n"
        "  if s % 3600 >= 60 then parts[#parts + 1] = (s % 3600 // 60) .. 'm' end\n"
        "  if s % 60 > 0 or #parts == 0 then parts[#parts + 1] = (s % 60) .. 's' end\n"
        "  return {text = table.concat(parts, ' ')}\n"
        "end\n",
     "[{\"name\":\"all units\",\"input\":{\"seconds\":3723},\"expected\":{\"text\":\"1h 2m 3s\"}},{\"name\":\"zero\",\"input\":{\"seconds\":0},\"expected\":{\"text\":\"0s\"}},{\"name\":\"whole hours\",\"input\":{\"seconds\":7200},\"expected\":{\"text\":\"2h\"}}]"},

};
CATALOGUE_COUNT(catalogue_families);
