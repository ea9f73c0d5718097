
use builtin;
use str;

set edit:completion:arg-completer[fleet] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'fleet'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'fleet'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand product 'Manage products: the device types of your organization'
            cand cohort 'Manage cohorts: groups of devices within a product'
            cand device 'Manage devices'
            cand config 'Manage configurations of products, cohorts and devices'
            cand ca 'Manage the CAs whose certificates admit a product''s devices'
            cand api-key 'Manage API keys: roles, product scopes, expiry, revocation'
            cand event 'Read the audit log: every write and refused request'
            cand firmware 'Push, list, show, pull and abandon firmware binaries'
            cand signing-key 'Manage Ed25519 keys that sign firmware'
            cand bundle 'Manage bundles: ordered sets of a product''s binaries'
            cand release 'Manage releases: bundles rolled out to cohorts'
            cand simulate 'Run simulated devices against the device API: check-ins, updates, reports'
            cand whoami 'Show the profile, URL and API key in effect and where each came from'
            cand profile 'Manage connection profiles (service URL + API key)'
            cand completions 'Print a shell completion script'
            cand server 'Run the fleet service: the HTTP API over an embedded SQLite database, or over PostgreSQL with `--database-url`'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;product'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create a product'
            cand list 'List products'
            cand show 'Show one product'
            cand update 'Change a product''s name, description or tags'
            cand archive 'Archive a product: it stays readable but accepts no new devices or cohorts'
            cand unarchive 'Make an archived product active again'
            cand delete 'Delete a product that has no devices (its cohorts go with it)'
            cand stats 'Show a product''s statistics: devices, connection, firmware, rollouts (--watch to follow)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;product;create'= {
            cand -d 'What the product is, for people'
            cand --description 'What the product is, for people'
            cand -t 'A `key:value` tag (repeatable)'
            cand --tag 'A `key:value` tag (repeatable)'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --if-not-exists 'If the product exists with the same description and tags (a flag not given means empty), print it and exit 0; if they differ, exit 7 naming the fields'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;product;list'= {
            cand -t 'Only products with this `key:value` tag (repeatable; all must match)'
            cand --tag 'Only products with this `key:value` tag (repeatable; all must match)'
            cand --limit 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --archived 'Only archived products'
            cand --all-states 'Active and archived products'
            cand --all 'Print every item, following pages to the end (streams; memory stays flat)'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;product;show'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;product;update'= {
            cand --name 'New name'
            cand -d 'New description'
            cand --description 'New description'
            cand -t 'Replace all tags with these `key:value` tags (repeatable)'
            cand --tag 'Replace all tags with these `key:value` tags (repeatable)'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --clear-tags 'Remove all tags'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;product;archive'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;product;unarchive'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;product;delete'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;product;stats'= {
            cand --watch 'Refresh every SECS seconds (default 5) until Ctrl-C: redrawn in place on a terminal; otherwise each refresh is appended (a separator line with its time; one JSON object per line with -o json)'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;product;help'= {
            cand create 'Create a product'
            cand list 'List products'
            cand show 'Show one product'
            cand update 'Change a product''s name, description or tags'
            cand archive 'Archive a product: it stays readable but accepts no new devices or cohorts'
            cand unarchive 'Make an archived product active again'
            cand delete 'Delete a product that has no devices (its cohorts go with it)'
            cand stats 'Show a product''s statistics: devices, connection, firmware, rollouts (--watch to follow)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;product;help;create'= {
        }
        &'fleet;product;help;list'= {
        }
        &'fleet;product;help;show'= {
        }
        &'fleet;product;help;update'= {
        }
        &'fleet;product;help;archive'= {
        }
        &'fleet;product;help;unarchive'= {
        }
        &'fleet;product;help;delete'= {
        }
        &'fleet;product;help;stats'= {
        }
        &'fleet;product;help;help'= {
        }
        &'fleet;cohort'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create a cohort in a product'
            cand list 'List cohorts, of one product or all'
            cand show 'Show one cohort'
            cand update 'Rename a cohort or change its description'
            cand delete 'Delete a cohort'
            cand assign 'Put devices into a cohort'
            cand unassign 'Take devices out of their cohorts'
            cand stats 'Show a cohort''s statistics: devices, connection, firmware, its release (--watch to follow)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;cohort;create'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand -d 'What the cohort is for'
            cand --description 'What the cohort is for'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --if-not-exists 'If the cohort exists in the product with the same description (not given means empty), print it and exit 0; if it differs, exit 7 naming the field'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;cohort;list'= {
            cand -P 'Only cohorts of this product (name or ID)'
            cand --product 'Only cohorts of this product (name or ID)'
            cand --limit 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --all 'Print every item, following pages to the end (streams; memory stays flat)'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;cohort;show'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;cohort;update'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --name 'New name'
            cand -d 'New description'
            cand --description 'New description'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;cohort;delete'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;cohort;assign'= {
            cand -P 'The cohort''s product (name or ID)'
            cand --product 'The cohort''s product (name or ID)'
            cand --from-file 'Read devices from FILE (`-` for stdin): one identifier or ID per line, or NDJSON objects with an `id` or `identifier` field'
            cand -c 'Only devices in this cohort (ID, or name within the product)'
            cand --cohort 'Only devices in this cohort (ID, or name within the product)'
            cand -t 'Only devices with this `key:value` tag (repeatable; all must match)'
            cand --tag 'Only devices with this `key:value` tag (repeatable; all must match)'
            cand --target 'Only devices with this hardware target'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --dry-run 'Show what would happen and change nothing'
            cand --no-cohort 'Only devices in no cohort'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;cohort;unassign'= {
            cand -P 'Only devices of this product (name or ID)'
            cand --product 'Only devices of this product (name or ID)'
            cand --from-file 'Read devices from FILE (`-` for stdin): one identifier or ID per line, or NDJSON objects with an `id` or `identifier` field'
            cand -c 'Only devices in this cohort (ID, or name within the product)'
            cand --cohort 'Only devices in this cohort (ID, or name within the product)'
            cand -t 'Only devices with this `key:value` tag (repeatable; all must match)'
            cand --tag 'Only devices with this `key:value` tag (repeatable; all must match)'
            cand --target 'Only devices with this hardware target'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --dry-run 'Show what would happen and change nothing'
            cand --no-cohort 'Only devices in no cohort'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;cohort;stats'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --watch 'Refresh every SECS seconds (default 5) until Ctrl-C: redrawn in place on a terminal; otherwise each refresh is appended (a separator line with its time; one JSON object per line with -o json)'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;cohort;help'= {
            cand create 'Create a cohort in a product'
            cand list 'List cohorts, of one product or all'
            cand show 'Show one cohort'
            cand update 'Rename a cohort or change its description'
            cand delete 'Delete a cohort'
            cand assign 'Put devices into a cohort'
            cand unassign 'Take devices out of their cohorts'
            cand stats 'Show a cohort''s statistics: devices, connection, firmware, its release (--watch to follow)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;cohort;help;create'= {
        }
        &'fleet;cohort;help;list'= {
        }
        &'fleet;cohort;help;show'= {
        }
        &'fleet;cohort;help;update'= {
        }
        &'fleet;cohort;help;delete'= {
        }
        &'fleet;cohort;help;assign'= {
        }
        &'fleet;cohort;help;unassign'= {
        }
        &'fleet;cohort;help;stats'= {
        }
        &'fleet;cohort;help;help'= {
        }
        &'fleet;device'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Register a device in a product'
            cand list 'List devices, filtered by product, cohort, tags, target, quarantine, or what their check-ins said (online, seen within, running, update state)'
            cand show 'Show one device: its settings, when it last checked in, what it runs, its update state'
            cand update 'Change a device''s cohort, tags, target, quarantine or description'
            cand delete 'Delete a device'
            cand move 'Move devices to another product (they must be re-provisioned)'
            cand import 'Import devices from a CSV file'
            cand cert 'Register, list, revoke and issue device certificates'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;device;create'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand -c 'Cohort of that product (name or ID)'
            cand --cohort 'Cohort of that product (name or ID)'
            cand -t 'A `key:value` tag (repeatable)'
            cand --tag 'A `key:value` tag (repeatable)'
            cand --target 'Hardware target triple, e.g. aarch64-unknown-linux-gnu'
            cand -d 'Free text for people'
            cand --description 'Free text for people'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --if-not-exists 'If the device exists with the same product, cohort, tags, target and description (a flag not given means none), print it and exit 0; if any differ, exit 7 naming them'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;device;list'= {
            cand -P 'Only devices of this product (name or ID)'
            cand --product 'Only devices of this product (name or ID)'
            cand -c 'Only devices in this cohort (ID, or name together with --product)'
            cand --cohort 'Only devices in this cohort (ID, or name together with --product)'
            cand -t 'Only devices with this `key:value` tag (repeatable; all must match)'
            cand --tag 'Only devices with this `key:value` tag (repeatable; all must match)'
            cand --target 'Only devices with this hardware target'
            cand --seen-within 'Only devices that checked in within this long, e.g. 30m, 1h, 2d'
            cand --running 'Only devices running this artifact at this version, e.g. app@1.4.0'
            cand --update-state 'Only devices whose latest update state is this'
            cand --sort 'The order: `id` (creation order) or `last-seen` (newest check-in first, devices never seen last)'
            cand --limit 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --quarantined 'Only quarantined devices'
            cand --online 'Only devices that checked in within twice the check-in interval (10 minutes by default)'
            cand --offline 'Only devices that did not check in within twice the check-in interval, or never did'
            cand --all 'Print every item, following pages to the end (streams; memory stays flat)'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;device;show'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;device;update'= {
            cand -c 'Move into this cohort of the device''s product (name or ID)'
            cand --cohort 'Move into this cohort of the device''s product (name or ID)'
            cand -t 'Replace all tags with these `key:value` tags (repeatable)'
            cand --tag 'Replace all tags with these `key:value` tags (repeatable)'
            cand --add-tag 'Add a tag (repeatable)'
            cand --remove-tag 'Remove a tag (repeatable)'
            cand --target 'New hardware target triple'
            cand -d 'New description'
            cand --description 'New description'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --no-cohort 'Take the device out of its cohort'
            cand --quarantine 'Stop releases from reaching the device'
            cand --unquarantine 'Let releases reach the device again'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;device;delete'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;device;move'= {
            cand --to-product 'Product to move the devices to (name or ID)'
            cand --to-cohort 'Cohort of the target product the devices join (default: none)'
            cand -P 'Only devices of this product (name or ID)'
            cand --product 'Only devices of this product (name or ID)'
            cand --from-file 'Read devices from FILE (`-` for stdin): one identifier or ID per line, or NDJSON objects with an `id` or `identifier` field'
            cand -c 'Only devices in this cohort (ID, or name within the product)'
            cand --cohort 'Only devices in this cohort (ID, or name within the product)'
            cand -t 'Only devices with this `key:value` tag (repeatable; all must match)'
            cand --tag 'Only devices with this `key:value` tag (repeatable; all must match)'
            cand --target 'Only devices with this hardware target'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --dry-run 'Show what would happen and change nothing'
            cand --no-cohort 'Only devices in no cohort'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;device;import'= {
            cand -P 'Product to import into (name or ID)'
            cand --product 'Product to import into (name or ID)'
            cand -c 'Cohort of that product for rows that name none'
            cand --cohort 'Cohort of that product for rows that name none'
            cand --chunk-rows 'Send at most N rows per request, each chunk imported in its own transaction (not all or nothing; see below)'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --update 'Overwrite existing devices of the product whose values differ from the file''s'
            cand --dry-run 'Check the file and show what would happen; change nothing'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;device;cert'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand add 'Register a certificate for a device'
            cand list 'List a device''s certificates'
            cand revoke 'Revoke a device''s certificate'
            cand issue 'Issue a device certificate under a local CA directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;device;cert;add'= {
            cand --cert 'The device certificate (PEM file)'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;device;cert;list'= {
            cand --limit 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --all 'Print every item, following pages to the end (streams; memory stays flat)'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;device;cert;revoke'= {
            cand --reason 'Why, kept with the certificate'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;device;cert;issue'= {
            cand --ca 'CA directory holding ca.pem and ca.key'
            cand --out 'Directory to write IDENTIFIER.pem and IDENTIFIER.key to (created if missing)'
            cand --days 'How long the certificate is valid, in days'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;device;cert;help'= {
            cand add 'Register a certificate for a device'
            cand list 'List a device''s certificates'
            cand revoke 'Revoke a device''s certificate'
            cand issue 'Issue a device certificate under a local CA directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;device;cert;help;add'= {
        }
        &'fleet;device;cert;help;list'= {
        }
        &'fleet;device;cert;help;revoke'= {
        }
        &'fleet;device;cert;help;issue'= {
        }
        &'fleet;device;cert;help;help'= {
        }
        &'fleet;device;help'= {
            cand create 'Register a device in a product'
            cand list 'List devices, filtered by product, cohort, tags, target, quarantine, or what their check-ins said (online, seen within, running, update state)'
            cand show 'Show one device: its settings, when it last checked in, what it runs, its update state'
            cand update 'Change a device''s cohort, tags, target, quarantine or description'
            cand delete 'Delete a device'
            cand move 'Move devices to another product (they must be re-provisioned)'
            cand import 'Import devices from a CSV file'
            cand cert 'Register, list, revoke and issue device certificates'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;device;help;create'= {
        }
        &'fleet;device;help;list'= {
        }
        &'fleet;device;help;show'= {
        }
        &'fleet;device;help;update'= {
        }
        &'fleet;device;help;delete'= {
        }
        &'fleet;device;help;move'= {
        }
        &'fleet;device;help;import'= {
        }
        &'fleet;device;help;cert'= {
            cand add 'Register a certificate for a device'
            cand list 'List a device''s certificates'
            cand revoke 'Revoke a device''s certificate'
            cand issue 'Issue a device certificate under a local CA directory'
        }
        &'fleet;device;help;cert;add'= {
        }
        &'fleet;device;help;cert;list'= {
        }
        &'fleet;device;help;cert;revoke'= {
        }
        &'fleet;device;help;cert;issue'= {
        }
        &'fleet;device;help;help'= {
        }
        &'fleet;config'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand show 'Show a configuration document (or with --effective, what devices get)'
            cand set 'Set keys by dotted path (values are JSON, else text)'
            cand unset 'Remove keys by dotted path (an override then inherits them again)'
            cand apply 'Replace a whole document from a JSON file or stdin'
            cand edit 'Edit a document in $EDITOR, checked before it is sent'
            cand history 'List a document''s revisions, newest first'
            cand diff 'Show what changed between two revisions'
            cand override 'Set or remove keys in many devices'' overrides at once (a bulk operation)'
            cand rollback 'Make an earlier revision''s document current again, as a new revision'
            cand schema 'Show, set or remove the product''s JSON Schema'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;config;show'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --cohort 'A cohort''s override (name or ID) instead of the product''s document'
            cand --device 'A device''s override (identifier or ID) instead of the product''s document'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --effective 'Merge in the levels above (what a device of this level receives)'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;config;set'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --cohort 'A cohort''s override (name or ID) instead of the product''s document'
            cand --device 'A device''s override (identifier or ID) instead of the product''s document'
            cand -m 'Why, kept with the revision (shown by `fleet config history`)'
            cand --message 'Why, kept with the revision (shown by `fleet config history`)'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --secret 'Mark these keys secret: stored and sent to devices, shown to people as "***"'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;config;unset'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --cohort 'A cohort''s override (name or ID) instead of the product''s document'
            cand --device 'A device''s override (identifier or ID) instead of the product''s document'
            cand -m 'Why, kept with the revision (shown by `fleet config history`)'
            cand --message 'Why, kept with the revision (shown by `fleet config history`)'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;config;apply'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --cohort 'A cohort''s override (name or ID) instead of the product''s document'
            cand --device 'A device''s override (identifier or ID) instead of the product''s document'
            cand -f 'A JSON object; `-` reads stdin'
            cand --file 'A JSON object; `-` reads stdin'
            cand --secret 'Mark these dotted key paths secret (repeatable)'
            cand -m 'Why, kept with the revision (shown by `fleet config history`)'
            cand --message 'Why, kept with the revision (shown by `fleet config history`)'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;config;edit'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --cohort 'A cohort''s override (name or ID) instead of the product''s document'
            cand --device 'A device''s override (identifier or ID) instead of the product''s document'
            cand -m 'Why, kept with the revision (shown by `fleet config history`)'
            cand --message 'Why, kept with the revision (shown by `fleet config history`)'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;config;history'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --cohort 'A cohort''s override (name or ID) instead of the product''s document'
            cand --device 'A device''s override (identifier or ID) instead of the product''s document'
            cand --limit 'At most N revisions (1–1000)'
            cand --before 'Only revisions older than this one'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;config;diff'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --cohort 'A cohort''s override (name or ID) instead of the product''s document'
            cand --device 'A device''s override (identifier or ID) instead of the product''s document'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;config;override'= {
            cand -P 'The devices'' product (name or ID)'
            cand --product 'The devices'' product (name or ID)'
            cand --set 'Set `key.path=value` in each override (repeatable)'
            cand --unset 'Remove KEY from each override, so the device inherits it again (repeatable)'
            cand -m 'Why, kept with the revision (shown by `fleet config history`)'
            cand --message 'Why, kept with the revision (shown by `fleet config history`)'
            cand --from-file 'Read devices from FILE (`-` for stdin): one identifier or ID per line, or NDJSON objects with an `id` or `identifier` field'
            cand -c 'Only devices in this cohort (ID, or name within the product)'
            cand --cohort 'Only devices in this cohort (ID, or name within the product)'
            cand -t 'Only devices with this `key:value` tag (repeatable; all must match)'
            cand --tag 'Only devices with this `key:value` tag (repeatable; all must match)'
            cand --target 'Only devices with this hardware target'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --dry-run 'Show what would happen and change nothing'
            cand --no-cohort 'Only devices in no cohort'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;config;rollback'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --cohort 'A cohort''s override (name or ID) instead of the product''s document'
            cand --device 'A device''s override (identifier or ID) instead of the product''s document'
            cand -m 'Why, kept with the revision (shown by `fleet config history`)'
            cand --message 'Why, kept with the revision (shown by `fleet config history`)'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;config;schema'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand set 'Set the JSON Schema every effective configuration of the product must satisfy'
            cand show 'Show the product''s JSON Schema'
            cand delete 'Remove the product''s JSON Schema (any JSON object is accepted again)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;config;schema;set'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand -f 'A JSON Schema (an object); `-` reads stdin'
            cand --file 'A JSON Schema (an object); `-` reads stdin'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;config;schema;show'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;config;schema;delete'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;config;schema;help'= {
            cand set 'Set the JSON Schema every effective configuration of the product must satisfy'
            cand show 'Show the product''s JSON Schema'
            cand delete 'Remove the product''s JSON Schema (any JSON object is accepted again)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;config;schema;help;set'= {
        }
        &'fleet;config;schema;help;show'= {
        }
        &'fleet;config;schema;help;delete'= {
        }
        &'fleet;config;schema;help;help'= {
        }
        &'fleet;config;help'= {
            cand show 'Show a configuration document (or with --effective, what devices get)'
            cand set 'Set keys by dotted path (values are JSON, else text)'
            cand unset 'Remove keys by dotted path (an override then inherits them again)'
            cand apply 'Replace a whole document from a JSON file or stdin'
            cand edit 'Edit a document in $EDITOR, checked before it is sent'
            cand history 'List a document''s revisions, newest first'
            cand diff 'Show what changed between two revisions'
            cand override 'Set or remove keys in many devices'' overrides at once (a bulk operation)'
            cand rollback 'Make an earlier revision''s document current again, as a new revision'
            cand schema 'Show, set or remove the product''s JSON Schema'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;config;help;show'= {
        }
        &'fleet;config;help;set'= {
        }
        &'fleet;config;help;unset'= {
        }
        &'fleet;config;help;apply'= {
        }
        &'fleet;config;help;edit'= {
        }
        &'fleet;config;help;history'= {
        }
        &'fleet;config;help;diff'= {
        }
        &'fleet;config;help;override'= {
        }
        &'fleet;config;help;rollback'= {
        }
        &'fleet;config;help;schema'= {
            cand set 'Set the JSON Schema every effective configuration of the product must satisfy'
            cand show 'Show the product''s JSON Schema'
            cand delete 'Remove the product''s JSON Schema (any JSON object is accepted again)'
        }
        &'fleet;config;help;schema;set'= {
        }
        &'fleet;config;help;schema;show'= {
        }
        &'fleet;config;help;schema;delete'= {
        }
        &'fleet;config;help;help'= {
        }
        &'fleet;ca'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand add 'Register a CA certificate for a product''s devices'
            cand list 'List certificate authorities, of one product or all'
            cand show 'Show one certificate authority'
            cand update 'Enable or disable a certificate authority or change its JITP settings'
            cand delete 'Delete a certificate authority'
            cand generate 'Make a new CA (certificate and key) in a local directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;ca;add'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --cert 'The CA certificate (PEM file)'
            cand --jitp-cohort 'Cohort (of the same product) new devices join'
            cand --jitp-tag 'A `key:value` tag new devices get (repeatable)'
            cand --jitp-target 'Hardware target triple new devices get'
            cand --jitp-description 'Description new devices get'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --disabled 'Register it disabled: it admits no device until `fleet ca update --enable`'
            cand --jitp 'Provision unknown devices with a certificate under this CA just in time'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;ca;list'= {
            cand -P 'Only certificate authorities of this product (name or ID)'
            cand --product 'Only certificate authorities of this product (name or ID)'
            cand --limit 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --all 'Print every item, following pages to the end (streams; memory stays flat)'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;ca;show'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;ca;update'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --jitp 'Turn just-in-time provisioning on or off'
            cand --jitp-cohort 'Cohort (of the same product) new devices join'
            cand --jitp-tag 'A `key:value` tag new devices get (repeatable; replaces the whole set)'
            cand --jitp-target 'Hardware target triple new devices get'
            cand --jitp-description 'Description new devices get'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --enable 'Admit devices with certificates under this CA again'
            cand --disable 'Admit no device with a certificate under this CA'
            cand --no-jitp-cohort 'New devices join no cohort'
            cand --no-jitp-tags 'New devices get no tags'
            cand --no-jitp-target 'New devices get no target'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;ca;delete'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;ca;generate'= {
            cand --out 'Directory to write ca.pem and ca.key to (created if missing; existing files are refused)'
            cand --days 'How long the CA certificate is valid, in days'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;ca;help'= {
            cand add 'Register a CA certificate for a product''s devices'
            cand list 'List certificate authorities, of one product or all'
            cand show 'Show one certificate authority'
            cand update 'Enable or disable a certificate authority or change its JITP settings'
            cand delete 'Delete a certificate authority'
            cand generate 'Make a new CA (certificate and key) in a local directory'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;ca;help;add'= {
        }
        &'fleet;ca;help;list'= {
        }
        &'fleet;ca;help;show'= {
        }
        &'fleet;ca;help;update'= {
        }
        &'fleet;ca;help;delete'= {
        }
        &'fleet;ca;help;generate'= {
        }
        &'fleet;ca;help;help'= {
        }
        &'fleet;api-key'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create an API key; its secret is printed once'
            cand list 'List API keys (never their secrets)'
            cand show 'Show one API key'
            cand revoke 'Revoke an API key: it stops working with the next request'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;api-key;create'= {
            cand --role 'What the key may do: `read`, `write` (fleet resources) or `admin` (also keys)'
            cand --product 'Limit the key to this product (name or ID; repeatable). Default: every product'
            cand --expires-in 'Let the key expire after this long, e.g. 90d, 12h'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;api-key;list'= {
            cand --limit 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --revoked 'Include revoked keys'
            cand --all 'Print every item, following pages to the end (streams; memory stays flat)'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;api-key;show'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;api-key;revoke'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;api-key;help'= {
            cand create 'Create an API key; its secret is printed once'
            cand list 'List API keys (never their secrets)'
            cand show 'Show one API key'
            cand revoke 'Revoke an API key: it stops working with the next request'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;api-key;help;create'= {
        }
        &'fleet;api-key;help;list'= {
        }
        &'fleet;api-key;help;show'= {
        }
        &'fleet;api-key;help;revoke'= {
        }
        &'fleet;api-key;help;help'= {
        }
        &'fleet;event'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List audit events, oldest first'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;event;list'= {
            cand --product 'Only events of this product (name or ID)'
            cand --resource 'Only events about this resource (its ID)'
            cand --action 'Only events of this action, e.g. `product.created`, or a prefix such as `device.*`'
            cand --key 'Only events by this API key (ID or name)'
            cand --since 'Only events in the last DURATION, e.g. 1h, 7d'
            cand --limit 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --all 'Print every item, following pages to the end (streams; memory stays flat)'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;event;help'= {
            cand list 'List audit events, oldest first'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;event;help;list'= {
        }
        &'fleet;event;help;help'= {
        }
        &'fleet;firmware'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand push 'Upload a firmware file (resumable, verified), optionally sign and release it'
            cand list 'List binaries'
            cand show 'Show one binary'
            cand pull 'Download a ready binary to a file, verifying its SHA-256'
            cand policy 'Show or change a product''s firmware policy (signed firmware required?)'
            cand abandon 'Give up an unfinished upload: delete the binary and the parts it received'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;firmware;push'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand -a 'Artifact (firmware type, e.g. `app`); created when missing'
            cand --artifact 'Artifact (firmware type, e.g. `app`); created when missing'
            cand --version 'Version string, e.g. 1.4.0; created when missing'
            cand -t 'Hardware target, e.g. armv7-unknown-linux-gnueabihf'
            cand --target 'Hardware target, e.g. armv7-unknown-linux-gnueabihf'
            cand --sign-key 'Sign with this Ed25519 private key (PKCS#8 PEM); repeatable'
            cand --release-to 'Release the binary to this cohort of the product (as a one-binary bundle); needs --rollout, e.g. `--release-to beta --rollout 10`'
            cand --rollout 'Share of the cohort''s devices to roll out to (0–100), required with --release-to: start small (e.g. 10) and raise it later with `fleet release update ID --rollout 50`'
            cand -d 'Description of the version, when it is created'
            cand --description 'Description of the version, when it is created'
            cand --parallel 'Parts uploaded at once; memory use is about this many parts'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'fleet;firmware;list'= {
            cand -P 'Only binaries of this product (name or ID)'
            cand --product 'Only binaries of this product (name or ID)'
            cand -a 'Only this artifact (name with --product, or ID)'
            cand --artifact 'Only this artifact (name with --product, or ID)'
            cand --version 'Only this version'
            cand -t 'Only this target'
            cand --target 'Only this target'
            cand --limit 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --ready 'Only ready binaries (not unfinished uploads)'
            cand --all 'Print every item, following pages to the end (streams; memory stays flat)'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'fleet;firmware;show'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand -a 'Artifact name or ID'
            cand --artifact 'Artifact name or ID'
            cand --version 'Version string'
            cand -t 'Hardware target'
            cand --target 'Hardware target'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'fleet;firmware;pull'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand -a 'Artifact name or ID'
            cand --artifact 'Artifact name or ID'
            cand --version 'Version string'
            cand -t 'Hardware target'
            cand --target 'Hardware target'
            cand --out 'Where to write the file; an existing file is refused unless --force'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --force 'Replace FILE if it exists (only once the download verified)'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'fleet;firmware;policy'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --require-signed 'Require every binary of a released bundle to be signed'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;firmware;abandon'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand -a 'Artifact name or ID'
            cand --artifact 'Artifact name or ID'
            cand --version 'Version string'
            cand -t 'Hardware target'
            cand --target 'Hardware target'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'fleet;firmware;help'= {
            cand push 'Upload a firmware file (resumable, verified), optionally sign and release it'
            cand list 'List binaries'
            cand show 'Show one binary'
            cand pull 'Download a ready binary to a file, verifying its SHA-256'
            cand policy 'Show or change a product''s firmware policy (signed firmware required?)'
            cand abandon 'Give up an unfinished upload: delete the binary and the parts it received'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;firmware;help;push'= {
        }
        &'fleet;firmware;help;list'= {
        }
        &'fleet;firmware;help;show'= {
        }
        &'fleet;firmware;help;pull'= {
        }
        &'fleet;firmware;help;policy'= {
        }
        &'fleet;firmware;help;abandon'= {
        }
        &'fleet;firmware;help;help'= {
        }
        &'fleet;signing-key'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand generate 'Make a new key pair: private key to a file (0600), public key registered'
            cand register 'Register an existing public key (or the public half of a private key file)'
            cand list 'List registered keys'
            cand delete 'Delete a registered key (its signatures go too)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;signing-key;generate'= {
            cand --out 'Where to write the private key; must not exist'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;signing-key;register'= {
            cand -k 'File holding the key'
            cand --key 'File holding the key'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;signing-key;list'= {
            cand --limit 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --all 'Print every item, following pages to the end (streams; memory stays flat)'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;signing-key;delete'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;signing-key;help'= {
            cand generate 'Make a new key pair: private key to a file (0600), public key registered'
            cand register 'Register an existing public key (or the public half of a private key file)'
            cand list 'List registered keys'
            cand delete 'Delete a registered key (its signatures go too)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;signing-key;help;generate'= {
        }
        &'fleet;signing-key;help;register'= {
        }
        &'fleet;signing-key;help;list'= {
        }
        &'fleet;signing-key;help;delete'= {
        }
        &'fleet;signing-key;help;help'= {
        }
        &'fleet;bundle'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create a bundle from ready binaries of one product'
            cand list 'List a product''s bundles'
            cand show 'Show one bundle'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;bundle;create'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand -b 'Binary ID, in install order; repeatable (`fleet firmware list -o id` prints them)'
            cand --binary 'Binary ID, in install order; repeatable (`fleet firmware list -o id` prints them)'
            cand -d 'What the bundle is for'
            cand --description 'What the bundle is for'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;bundle;list'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand --limit 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --all 'Print every item, following pages to the end (streams; memory stays flat)'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;bundle;show'= {
            cand -P 'Product name or ID; not needed with a bundle ID'
            cand --product 'Product name or ID; not needed with a bundle ID'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;bundle;help'= {
            cand create 'Create a bundle from ready binaries of one product'
            cand list 'List a product''s bundles'
            cand show 'Show one bundle'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;bundle;help;create'= {
        }
        &'fleet;bundle;help;list'= {
        }
        &'fleet;bundle;help;show'= {
        }
        &'fleet;bundle;help;help'= {
        }
        &'fleet;release'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Release a bundle to a cohort'
            cand list 'List a product''s releases (a cohort''s history with --cohort)'
            cand show 'Show one release'
            cand update 'Change a release''s rollout, schedule, guard or whether it is required'
            cand halt 'Stop offering a release to devices that have not started it'
            cand resume 'Offer a halted release again'
            cand promote 'Move a release''s rollout to its next step (or --to a percentage) now'
            cand status 'Show how far a release got: states, success rate, failure reasons (--watch to follow)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;release;create'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand -c 'Cohort name or ID'
            cand --cohort 'Cohort name or ID'
            cand -b 'Bundle name or ID'
            cand --bundle 'Bundle name or ID'
            cand --rollout 'Share of the cohort''s devices to roll out to [default: 100]'
            cand --schedule 'Steps the rollout takes by itself, e.g. 1%,10%@1h,50%@6h,100%@24h: the first applies now, each later one when its wait (from the previous step) has passed and the release is not halted'
            cand --halt-on-failure-rate 'Halt the release when more than this share of the devices that finished it failed'
            cand --min-reports 'Devices that must have finished before the guard judges [default: 20]'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --required 'Devices must install it'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;release;list'= {
            cand -P 'Product name or ID'
            cand --product 'Product name or ID'
            cand -c 'Only this cohort''s releases (name or ID)'
            cand --cohort 'Only this cohort''s releases (name or ID)'
            cand --limit 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --all 'Print every item, following pages to the end (streams; memory stays flat)'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;release;show'= {
            cand -P 'Product name or ID (optional: the release is found by its ID)'
            cand --product 'Product name or ID (optional: the release is found by its ID)'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;release;update'= {
            cand -P 'Product name or ID (optional: the release is found by its ID)'
            cand --product 'Product name or ID (optional: the release is found by its ID)'
            cand --rollout 'New rollout percentage (the release leaves its schedule)'
            cand --required 'Whether devices must install it'
            cand --schedule 'Steps the rollout takes by itself, e.g. 1%,10%@1h,50%@6h,100%@24h: the first applies now, each later one when its wait (from the previous step) has passed and the release is not halted'
            cand --halt-on-failure-rate 'Halt the release when more than this share of the devices that finished it failed'
            cand --min-reports 'Devices that must have finished before the guard judges [default: 20]'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;release;halt'= {
            cand -P 'Product name or ID (optional: the release is found by its ID)'
            cand --product 'Product name or ID (optional: the release is found by its ID)'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;release;resume'= {
            cand -P 'Product name or ID (optional: the release is found by its ID)'
            cand --product 'Product name or ID (optional: the release is found by its ID)'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;release;promote'= {
            cand -P 'Product name or ID (optional: the release is found by its ID)'
            cand --product 'Product name or ID (optional: the release is found by its ID)'
            cand --to 'Go to this percentage instead of the next step'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;release;status'= {
            cand -P 'Product name or ID (optional: the release is found by its ID)'
            cand --product 'Product name or ID (optional: the release is found by its ID)'
            cand --watch 'Refresh every SECS seconds (default 5) until Ctrl-C: redrawn in place on a terminal; otherwise each refresh is appended (a separator line with its time; one JSON object per line with -o json)'
            cand --until-rollout 'The rollout percentage to wait for'
            cand --success-rate 'Once the rollout is reached, at least this share of the devices that finished must have succeeded'
            cand --timeout 'Give up after this long'
            cand --poll 'How often to look'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --wait 'Block until the release reaches the bar (exit 0), is halted or misses the bar (exit 9), or --timeout passes (exit 3)'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;release;help'= {
            cand create 'Release a bundle to a cohort'
            cand list 'List a product''s releases (a cohort''s history with --cohort)'
            cand show 'Show one release'
            cand update 'Change a release''s rollout, schedule, guard or whether it is required'
            cand halt 'Stop offering a release to devices that have not started it'
            cand resume 'Offer a halted release again'
            cand promote 'Move a release''s rollout to its next step (or --to a percentage) now'
            cand status 'Show how far a release got: states, success rate, failure reasons (--watch to follow)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;release;help;create'= {
        }
        &'fleet;release;help;list'= {
        }
        &'fleet;release;help;show'= {
        }
        &'fleet;release;help;update'= {
        }
        &'fleet;release;help;halt'= {
        }
        &'fleet;release;help;resume'= {
        }
        &'fleet;release;help;promote'= {
        }
        &'fleet;release;help;status'= {
        }
        &'fleet;release;help;help'= {
        }
        &'fleet;simulate'= {
            cand --device-url 'The device API''s URL (`fleet server --device-listen`), e.g. https://127.0.0.1:8443'
            cand --count 'Number of devices [default with --certs: every pair in the directory]'
            cand --ca 'Issue each device a certificate under the CA in DIR (`fleet ca generate`); identifiers sim-0000, sim-0001, …, provisioned by JITP on their first check-in'
            cand --first 'With --ca, the number of the first device: identifiers start at sim-N. A device''s number alone makes its identifier (at least four digits: sim-0042, sim-10000), so runs with --first 0, 10000, 20000 … and --count 10000 make distinct devices'
            cand --certs 'Use existing device certificates: <identifier>.pem and <identifier>.key pairs in DIR'
            cand --server-fingerprint 'Trust the server whose certificate has this SHA-256 fingerprint (`fleet server` prints it)'
            cand --server-ca 'Trust server certificates issued by the CA(s) in this PEM file'
            cand --interval 'Time between a device''s check-ins (jittered ±10%; the first falls anywhere within one)'
            cand --duration 'How long the run lasts at most (in the load mode: each phase)'
            cand --fail-rate 'Share of installs that fail, from 0 to 1 (the same devices for the same --seed)'
            cand --seed 'Seed of every random choice (jitter, failing devices): the same seed, the same run'
            cand --target 'Hardware target the devices report, e.g. armv7-unknown-linux-gnueabihf'
            cand --running 'What each device runs at start, as ARTIFACT@VERSION (repeat for more artifacts)'
            cand --concurrency 'Devices connecting at once (TLS handshake and first check-in, where JITP happens)'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --insecure 'Do not check the server''s certificate at all (development only; a warning says so)'
            cand --until-settled 'Stop as soon as every device reported a final state or has nothing offered (--duration still bounds the run)'
            cand --check-ins-only 'Load mode: after every device connected, check in back to back for --duration (no interval, no updates taken); measures check-ins/s and latency'
            cand --ping 'Load mode: authenticated no-op requests back to back for --duration, over the same connections (after the check-ins, with --check-ins-only): the baseline'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;whoami'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;profile'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand add 'Add or replace a profile'
            cand list 'List profiles; `*` marks the default'
            cand show 'Show a profile (never its API key)'
            cand use 'Make a profile the default'
            cand remove 'Remove a profile and its stored API key'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;profile;add'= {
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --api-key-stdin 'Read the API key from the first line of stdin instead of prompting'
            cand --force 'Replace the profile if it exists, without asking'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;profile;list'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;profile;show'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;profile;use'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;profile;remove'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;profile;help'= {
            cand add 'Add or replace a profile'
            cand list 'List profiles; `*` marks the default'
            cand show 'Show a profile (never its API key)'
            cand use 'Make a profile the default'
            cand remove 'Remove a profile and its stored API key'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;profile;help;add'= {
        }
        &'fleet;profile;help;list'= {
        }
        &'fleet;profile;help;show'= {
        }
        &'fleet;profile;help;use'= {
        }
        &'fleet;profile;help;remove'= {
        }
        &'fleet;profile;help;help'= {
        }
        &'fleet;completions'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;server'= {
            cand --listen 'Address and port to listen on'
            cand --data-dir 'Directory for the database and the local blob store [default: the platform data directory, e.g. ~/.local/share/fleet]'
            cand --database-url 'PostgreSQL database for the service''s state, e.g. postgres://fleet:PASSWORD@db.internal:5432/fleet; replicas share one [default: SQLite, fleet.db in the data directory]'
            cand --auth-failures-per-minute 'Invalid API keys one client address may present per minute; after that its invalid keys get 429 until the minute is over (valid keys keep working)'
            cand --upload-expiry 'Abandon an unfinished firmware upload after it saw no activity for this long (its parts are deleted), e.g. 24h, 90m; the same sweep deletes orphaned part files'
            cand --max-connections 'Connections served at once; when all are taken, the longest-idle one is closed to make room [default: 10000, lowered to fit the open-file limit]'
            cand --header-timeout 'Time a client has to send a complete request head (request line and headers), counted from the connection opening or the previous response; then the connection is closed'
            cand --body-timeout 'Time a request body may go without any data arriving; then the request gets 408'
            cand --idle-timeout 'Time a connection may sit with nothing read or written while no request is being handled (idle keep-alive, a client that stopped reading); then it is closed'
            cand --trusted-proxy 'A reverse proxy (CIDR range or address) whose X-Forwarded-For names the client, for brute-force protection; repeatable. From other peers the header is ignored'
            cand --device-listen 'Address and port of the device API (mutual TLS: devices present X.509 client certificates); without it the service has no device listener'
            cand --device-tls-cert 'The device API''s server certificate (PEM, chain after it) [default: a self-signed one generated into the data directory on first start, device-tls.pem]'
            cand --device-tls-key 'The private key of --device-tls-cert (PEM)'
            cand --check-in-interval 'How often devices are told to check in (each check-in''s answer says so), 10s to 1d; a device counts as online while its last check-in is at most 2 intervals old'
            cand --device-keep-alive 'How long a device''s connection stays open waiting for its next request, 10s to 1d. Devices have proven who they are (mutual TLS) before this applies, so it replaces --header-timeout and --idle-timeout there; --max-connections still bounds how many are kept [default: the check-in interval + 1m, so a device checking in on time reuses its connection instead of a full TLS handshake]'
            cand --device-downloads 'How devices download offered firmware: through the device API, or (with an S3 blob store) from a short-lived presigned URL of the bucket, so the bytes do not pass through the service; binaries copied from a local blob store by `fleet server migrate` are kept as several part objects and still download through the device API'
            cand --presigned-url-ttl 'How long a presigned download URL works, 1m to 24h (with --device-downloads presigned); a device that starts later checks in again for a fresh one'
            cand --blob-store 'Keep firmware binaries in an S3-compatible bucket instead of <DIR>/blobs, e.g. s3://fleet-firmware/prod; every replica of one deployment uses the same bucket'
            cand --s3-endpoint 'S3-compatible server instead of AWS, e.g. https://minio.example.net:9000 (plain http only to 127.0.0.1, for test servers)'
            cand --s3-region 'Region of the bucket [default: $AWS_DEFAULT_REGION, else us-east-1]'
            cand --s3-access-key-id 'Access key ID of the bucket''s credentials'
            cand --s3-secret-access-key 'Secret access key (prefer the variable: a flag shows in the process list)'
            cand --s3-session-token 'Session token of temporary credentials'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --no-profile 'Do not save a new admin key as a profile; write it to <DIR>/admin-api-key (mode 0600)'
            cand --s3-path-style 'Path-style requests (ENDPOINT/BUCKET/KEY), as MinIO, moto and most self-hosted servers want; without it, virtual-hosted style (BUCKET.ENDPOINT/KEY)'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand api-key 'Manage API keys directly in the database, without a running service'
            cand migrate 'Copy a deployment to another database (e.g. SQLite to PostgreSQL) and verify the copy'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;server;api-key'= {
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand create 'Create an org-wide API key in the database (recovery when every admin key is lost)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;server;api-key;create'= {
            cand --data-dir 'The service''s data directory (holding fleet.db) [default: the same as `fleet server`''s, the platform data directory, e.g. ~/.local/share/fleet]'
            cand --database-url 'PostgreSQL database for the service''s state, e.g. postgres://fleet:PASSWORD@db.internal:5432/fleet; replicas share one [default: SQLite, fleet.db in the data directory]'
            cand --role 'The key''s role: `read`, `write` or `admin`'
            cand --name 'A name for the key'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;server;api-key;help'= {
            cand create 'Create an org-wide API key in the database (recovery when every admin key is lost)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;server;api-key;help;create'= {
        }
        &'fleet;server;api-key;help;help'= {
        }
        &'fleet;server;migrate'= {
            cand --from 'The deployment to copy: `sqlite:DIR` (a data directory, or the fleet.db in it) or a postgres:// URL'
            cand --to 'Where to copy it: a postgres:// URL, or `sqlite:DIR` (a data directory, created when missing)'
            cand --from-data-dir 'With a PostgreSQL --from: the data directory whose blobs/ holds its firmware [default: the platform data directory, e.g. ~/.local/share/fleet]'
            cand --to-data-dir 'With a PostgreSQL --to: the data directory the new deployment runs with; the firmware blobs are copied into its blobs/ [default: the source''s data directory, whose blobs stay where they are]'
            cand --blob-store 'Keep firmware binaries in an S3-compatible bucket instead of <DIR>/blobs, e.g. s3://fleet-firmware/prod; every replica of one deployment uses the same bucket'
            cand --s3-endpoint 'S3-compatible server instead of AWS, e.g. https://minio.example.net:9000 (plain http only to 127.0.0.1, for test servers)'
            cand --s3-region 'Region of the bucket [default: $AWS_DEFAULT_REGION, else us-east-1]'
            cand --s3-access-key-id 'Access key ID of the bucket''s credentials'
            cand --s3-secret-access-key 'Secret access key (prefer the variable: a flag shows in the process list)'
            cand --s3-session-token 'Session token of temporary credentials'
            cand --profile 'Profile to use from config.toml (default: the config''s `default_profile`)'
            cand --api-url 'Base URL of the fleet service, e.g. http://127.0.0.1:4040'
            cand --api-key 'API key (prefer the env var or a profile: flags show up in shell history)'
            cand -o 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --output 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs'
            cand --color 'When to use colour on stderr and tables (never when NO_COLOR is set)'
            cand --config-dir 'Directory holding config.toml and credentials.toml'
            cand --s3-path-style 'Path-style requests (ENDPOINT/BUCKET/KEY), as MinIO, moto and most self-hosted servers want; without it, virtual-hosted style (BUCKET.ENDPOINT/KEY)'
            cand --replace 'Delete what the target database holds (a deployment started there by mistake) instead of refusing to copy into it'
            cand -q 'Print only data and errors: no status lines, hints or progress'
            cand --quiet 'Print only data and errors: no status lines, hints or progress'
            cand -v 'Print more about what is happening (requests, timings)'
            cand --verbose 'Print more about what is happening (requests, timings)'
            cand -y 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --yes 'Answer yes to confirmations (needed for destructive commands without a terminal)'
            cand --no-input 'Never prompt; fail instead when input would be needed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'fleet;server;help'= {
            cand api-key 'Manage API keys directly in the database, without a running service'
            cand migrate 'Copy a deployment to another database (e.g. SQLite to PostgreSQL) and verify the copy'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;server;help;api-key'= {
            cand create 'Create an org-wide API key in the database (recovery when every admin key is lost)'
        }
        &'fleet;server;help;api-key;create'= {
        }
        &'fleet;server;help;migrate'= {
        }
        &'fleet;server;help;help'= {
        }
        &'fleet;help'= {
            cand product 'Manage products: the device types of your organization'
            cand cohort 'Manage cohorts: groups of devices within a product'
            cand device 'Manage devices'
            cand config 'Manage configurations of products, cohorts and devices'
            cand ca 'Manage the CAs whose certificates admit a product''s devices'
            cand api-key 'Manage API keys: roles, product scopes, expiry, revocation'
            cand event 'Read the audit log: every write and refused request'
            cand firmware 'Push, list, show, pull and abandon firmware binaries'
            cand signing-key 'Manage Ed25519 keys that sign firmware'
            cand bundle 'Manage bundles: ordered sets of a product''s binaries'
            cand release 'Manage releases: bundles rolled out to cohorts'
            cand simulate 'Run simulated devices against the device API: check-ins, updates, reports'
            cand whoami 'Show the profile, URL and API key in effect and where each came from'
            cand profile 'Manage connection profiles (service URL + API key)'
            cand completions 'Print a shell completion script'
            cand server 'Run the fleet service: the HTTP API over an embedded SQLite database, or over PostgreSQL with `--database-url`'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fleet;help;product'= {
            cand create 'Create a product'
            cand list 'List products'
            cand show 'Show one product'
            cand update 'Change a product''s name, description or tags'
            cand archive 'Archive a product: it stays readable but accepts no new devices or cohorts'
            cand unarchive 'Make an archived product active again'
            cand delete 'Delete a product that has no devices (its cohorts go with it)'
            cand stats 'Show a product''s statistics: devices, connection, firmware, rollouts (--watch to follow)'
        }
        &'fleet;help;product;create'= {
        }
        &'fleet;help;product;list'= {
        }
        &'fleet;help;product;show'= {
        }
        &'fleet;help;product;update'= {
        }
        &'fleet;help;product;archive'= {
        }
        &'fleet;help;product;unarchive'= {
        }
        &'fleet;help;product;delete'= {
        }
        &'fleet;help;product;stats'= {
        }
        &'fleet;help;cohort'= {
            cand create 'Create a cohort in a product'
            cand list 'List cohorts, of one product or all'
            cand show 'Show one cohort'
            cand update 'Rename a cohort or change its description'
            cand delete 'Delete a cohort'
            cand assign 'Put devices into a cohort'
            cand unassign 'Take devices out of their cohorts'
            cand stats 'Show a cohort''s statistics: devices, connection, firmware, its release (--watch to follow)'
        }
        &'fleet;help;cohort;create'= {
        }
        &'fleet;help;cohort;list'= {
        }
        &'fleet;help;cohort;show'= {
        }
        &'fleet;help;cohort;update'= {
        }
        &'fleet;help;cohort;delete'= {
        }
        &'fleet;help;cohort;assign'= {
        }
        &'fleet;help;cohort;unassign'= {
        }
        &'fleet;help;cohort;stats'= {
        }
        &'fleet;help;device'= {
            cand create 'Register a device in a product'
            cand list 'List devices, filtered by product, cohort, tags, target, quarantine, or what their check-ins said (online, seen within, running, update state)'
            cand show 'Show one device: its settings, when it last checked in, what it runs, its update state'
            cand update 'Change a device''s cohort, tags, target, quarantine or description'
            cand delete 'Delete a device'
            cand move 'Move devices to another product (they must be re-provisioned)'
            cand import 'Import devices from a CSV file'
            cand cert 'Register, list, revoke and issue device certificates'
        }
        &'fleet;help;device;create'= {
        }
        &'fleet;help;device;list'= {
        }
        &'fleet;help;device;show'= {
        }
        &'fleet;help;device;update'= {
        }
        &'fleet;help;device;delete'= {
        }
        &'fleet;help;device;move'= {
        }
        &'fleet;help;device;import'= {
        }
        &'fleet;help;device;cert'= {
            cand add 'Register a certificate for a device'
            cand list 'List a device''s certificates'
            cand revoke 'Revoke a device''s certificate'
            cand issue 'Issue a device certificate under a local CA directory'
        }
        &'fleet;help;device;cert;add'= {
        }
        &'fleet;help;device;cert;list'= {
        }
        &'fleet;help;device;cert;revoke'= {
        }
        &'fleet;help;device;cert;issue'= {
        }
        &'fleet;help;config'= {
            cand show 'Show a configuration document (or with --effective, what devices get)'
            cand set 'Set keys by dotted path (values are JSON, else text)'
            cand unset 'Remove keys by dotted path (an override then inherits them again)'
            cand apply 'Replace a whole document from a JSON file or stdin'
            cand edit 'Edit a document in $EDITOR, checked before it is sent'
            cand history 'List a document''s revisions, newest first'
            cand diff 'Show what changed between two revisions'
            cand override 'Set or remove keys in many devices'' overrides at once (a bulk operation)'
            cand rollback 'Make an earlier revision''s document current again, as a new revision'
            cand schema 'Show, set or remove the product''s JSON Schema'
        }
        &'fleet;help;config;show'= {
        }
        &'fleet;help;config;set'= {
        }
        &'fleet;help;config;unset'= {
        }
        &'fleet;help;config;apply'= {
        }
        &'fleet;help;config;edit'= {
        }
        &'fleet;help;config;history'= {
        }
        &'fleet;help;config;diff'= {
        }
        &'fleet;help;config;override'= {
        }
        &'fleet;help;config;rollback'= {
        }
        &'fleet;help;config;schema'= {
            cand set 'Set the JSON Schema every effective configuration of the product must satisfy'
            cand show 'Show the product''s JSON Schema'
            cand delete 'Remove the product''s JSON Schema (any JSON object is accepted again)'
        }
        &'fleet;help;config;schema;set'= {
        }
        &'fleet;help;config;schema;show'= {
        }
        &'fleet;help;config;schema;delete'= {
        }
        &'fleet;help;ca'= {
            cand add 'Register a CA certificate for a product''s devices'
            cand list 'List certificate authorities, of one product or all'
            cand show 'Show one certificate authority'
            cand update 'Enable or disable a certificate authority or change its JITP settings'
            cand delete 'Delete a certificate authority'
            cand generate 'Make a new CA (certificate and key) in a local directory'
        }
        &'fleet;help;ca;add'= {
        }
        &'fleet;help;ca;list'= {
        }
        &'fleet;help;ca;show'= {
        }
        &'fleet;help;ca;update'= {
        }
        &'fleet;help;ca;delete'= {
        }
        &'fleet;help;ca;generate'= {
        }
        &'fleet;help;api-key'= {
            cand create 'Create an API key; its secret is printed once'
            cand list 'List API keys (never their secrets)'
            cand show 'Show one API key'
            cand revoke 'Revoke an API key: it stops working with the next request'
        }
        &'fleet;help;api-key;create'= {
        }
        &'fleet;help;api-key;list'= {
        }
        &'fleet;help;api-key;show'= {
        }
        &'fleet;help;api-key;revoke'= {
        }
        &'fleet;help;event'= {
            cand list 'List audit events, oldest first'
        }
        &'fleet;help;event;list'= {
        }
        &'fleet;help;firmware'= {
            cand push 'Upload a firmware file (resumable, verified), optionally sign and release it'
            cand list 'List binaries'
            cand show 'Show one binary'
            cand pull 'Download a ready binary to a file, verifying its SHA-256'
            cand policy 'Show or change a product''s firmware policy (signed firmware required?)'
            cand abandon 'Give up an unfinished upload: delete the binary and the parts it received'
        }
        &'fleet;help;firmware;push'= {
        }
        &'fleet;help;firmware;list'= {
        }
        &'fleet;help;firmware;show'= {
        }
        &'fleet;help;firmware;pull'= {
        }
        &'fleet;help;firmware;policy'= {
        }
        &'fleet;help;firmware;abandon'= {
        }
        &'fleet;help;signing-key'= {
            cand generate 'Make a new key pair: private key to a file (0600), public key registered'
            cand register 'Register an existing public key (or the public half of a private key file)'
            cand list 'List registered keys'
            cand delete 'Delete a registered key (its signatures go too)'
        }
        &'fleet;help;signing-key;generate'= {
        }
        &'fleet;help;signing-key;register'= {
        }
        &'fleet;help;signing-key;list'= {
        }
        &'fleet;help;signing-key;delete'= {
        }
        &'fleet;help;bundle'= {
            cand create 'Create a bundle from ready binaries of one product'
            cand list 'List a product''s bundles'
            cand show 'Show one bundle'
        }
        &'fleet;help;bundle;create'= {
        }
        &'fleet;help;bundle;list'= {
        }
        &'fleet;help;bundle;show'= {
        }
        &'fleet;help;release'= {
            cand create 'Release a bundle to a cohort'
            cand list 'List a product''s releases (a cohort''s history with --cohort)'
            cand show 'Show one release'
            cand update 'Change a release''s rollout, schedule, guard or whether it is required'
            cand halt 'Stop offering a release to devices that have not started it'
            cand resume 'Offer a halted release again'
            cand promote 'Move a release''s rollout to its next step (or --to a percentage) now'
            cand status 'Show how far a release got: states, success rate, failure reasons (--watch to follow)'
        }
        &'fleet;help;release;create'= {
        }
        &'fleet;help;release;list'= {
        }
        &'fleet;help;release;show'= {
        }
        &'fleet;help;release;update'= {
        }
        &'fleet;help;release;halt'= {
        }
        &'fleet;help;release;resume'= {
        }
        &'fleet;help;release;promote'= {
        }
        &'fleet;help;release;status'= {
        }
        &'fleet;help;simulate'= {
        }
        &'fleet;help;whoami'= {
        }
        &'fleet;help;profile'= {
            cand add 'Add or replace a profile'
            cand list 'List profiles; `*` marks the default'
            cand show 'Show a profile (never its API key)'
            cand use 'Make a profile the default'
            cand remove 'Remove a profile and its stored API key'
        }
        &'fleet;help;profile;add'= {
        }
        &'fleet;help;profile;list'= {
        }
        &'fleet;help;profile;show'= {
        }
        &'fleet;help;profile;use'= {
        }
        &'fleet;help;profile;remove'= {
        }
        &'fleet;help;completions'= {
        }
        &'fleet;help;server'= {
            cand api-key 'Manage API keys directly in the database, without a running service'
            cand migrate 'Copy a deployment to another database (e.g. SQLite to PostgreSQL) and verify the copy'
        }
        &'fleet;help;server;api-key'= {
            cand create 'Create an org-wide API key in the database (recovery when every admin key is lost)'
        }
        &'fleet;help;server;api-key;create'= {
        }
        &'fleet;help;server;migrate'= {
        }
        &'fleet;help;help'= {
        }
    ]
    $completions[$command]
}
