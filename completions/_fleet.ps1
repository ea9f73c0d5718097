
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'fleet' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'fleet'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'fleet' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('product', 'product', [CompletionResultType]::ParameterValue, 'Manage products: the device types of your organization')
            [CompletionResult]::new('cohort', 'cohort', [CompletionResultType]::ParameterValue, 'Manage cohorts: groups of devices within a product')
            [CompletionResult]::new('device', 'device', [CompletionResultType]::ParameterValue, 'Manage devices')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Manage configurations of products, cohorts and devices')
            [CompletionResult]::new('ca', 'ca', [CompletionResultType]::ParameterValue, 'Manage the CAs whose certificates admit a product''s devices')
            [CompletionResult]::new('api-key', 'api-key', [CompletionResultType]::ParameterValue, 'Manage API keys: roles, product scopes, expiry, revocation')
            [CompletionResult]::new('event', 'event', [CompletionResultType]::ParameterValue, 'Read the audit log: every write and refused request')
            [CompletionResult]::new('firmware', 'firmware', [CompletionResultType]::ParameterValue, 'Push, list, show, pull and abandon firmware binaries')
            [CompletionResult]::new('signing-key', 'signing-key', [CompletionResultType]::ParameterValue, 'Manage Ed25519 keys that sign firmware')
            [CompletionResult]::new('bundle', 'bundle', [CompletionResultType]::ParameterValue, 'Manage bundles: ordered sets of a product''s binaries')
            [CompletionResult]::new('release', 'release', [CompletionResultType]::ParameterValue, 'Manage releases: bundles rolled out to cohorts')
            [CompletionResult]::new('simulate', 'simulate', [CompletionResultType]::ParameterValue, 'Run simulated devices against the device API: check-ins, updates, reports')
            [CompletionResult]::new('whoami', 'whoami', [CompletionResultType]::ParameterValue, 'Show the profile, URL and API key in effect and where each came from')
            [CompletionResult]::new('profile', 'profile', [CompletionResultType]::ParameterValue, 'Manage connection profiles (service URL + API key)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('server', 'server', [CompletionResultType]::ParameterValue, 'Run the fleet service: the HTTP API over an embedded SQLite database, or over PostgreSQL with `--database-url`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;product' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a product')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List products')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one product')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a product''s name, description or tags')
            [CompletionResult]::new('archive', 'archive', [CompletionResultType]::ParameterValue, 'Archive a product: it stays readable but accepts no new devices or cohorts')
            [CompletionResult]::new('unarchive', 'unarchive', [CompletionResultType]::ParameterValue, 'Make an archived product active again')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a product that has no devices (its cohorts go with it)')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Show a product''s statistics: devices, connection, firmware, rollouts (--watch to follow)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;product;create' {
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'What the product is, for people')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'What the product is, for people')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'A `key:value` tag (repeatable)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'A `key:value` tag (repeatable)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--if-not-exists', '--if-not-exists', [CompletionResultType]::ParameterName, 'If the product exists with the same description and tags (a flag not given means empty), print it and exit 0; if they differ, exit 7 naming the fields')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;product;list' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Only products with this `key:value` tag (repeatable; all must match)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Only products with this `key:value` tag (repeatable; all must match)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--archived', '--archived', [CompletionResultType]::ParameterName, 'Only archived products')
            [CompletionResult]::new('--all-states', '--all-states', [CompletionResultType]::ParameterName, 'Active and archived products')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Print every item, following pages to the end (streams; memory stays flat)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;product;show' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;product;update' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'New name')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'New description')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'New description')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Replace all tags with these `key:value` tags (repeatable)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Replace all tags with these `key:value` tags (repeatable)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--clear-tags', '--clear-tags', [CompletionResultType]::ParameterName, 'Remove all tags')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;product;archive' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;product;unarchive' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;product;delete' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;product;stats' {
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Refresh every SECS seconds (default 5) until Ctrl-C: redrawn in place on a terminal; otherwise each refresh is appended (a separator line with its time; one JSON object per line with -o json)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;product;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a product')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List products')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one product')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a product''s name, description or tags')
            [CompletionResult]::new('archive', 'archive', [CompletionResultType]::ParameterValue, 'Archive a product: it stays readable but accepts no new devices or cohorts')
            [CompletionResult]::new('unarchive', 'unarchive', [CompletionResultType]::ParameterValue, 'Make an archived product active again')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a product that has no devices (its cohorts go with it)')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Show a product''s statistics: devices, connection, firmware, rollouts (--watch to follow)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;product;help;create' {
            break
        }
        'fleet;product;help;list' {
            break
        }
        'fleet;product;help;show' {
            break
        }
        'fleet;product;help;update' {
            break
        }
        'fleet;product;help;archive' {
            break
        }
        'fleet;product;help;unarchive' {
            break
        }
        'fleet;product;help;delete' {
            break
        }
        'fleet;product;help;stats' {
            break
        }
        'fleet;product;help;help' {
            break
        }
        'fleet;cohort' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a cohort in a product')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List cohorts, of one product or all')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one cohort')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Rename a cohort or change its description')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a cohort')
            [CompletionResult]::new('assign', 'assign', [CompletionResultType]::ParameterValue, 'Put devices into a cohort')
            [CompletionResult]::new('unassign', 'unassign', [CompletionResultType]::ParameterValue, 'Take devices out of their cohorts')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Show a cohort''s statistics: devices, connection, firmware, its release (--watch to follow)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;cohort;create' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'What the cohort is for')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'What the cohort is for')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--if-not-exists', '--if-not-exists', [CompletionResultType]::ParameterName, 'If the cohort exists in the product with the same description (not given means empty), print it and exit 0; if it differs, exit 7 naming the field')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;cohort;list' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Only cohorts of this product (name or ID)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Only cohorts of this product (name or ID)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Print every item, following pages to the end (streams; memory stays flat)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;cohort;show' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;cohort;update' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'New name')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'New description')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'New description')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;cohort;delete' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;cohort;assign' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'The cohort''s product (name or ID)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'The cohort''s product (name or ID)')
            [CompletionResult]::new('--from-file', '--from-file', [CompletionResultType]::ParameterName, 'Read devices from FILE (`-` for stdin): one identifier or ID per line, or NDJSON objects with an `id` or `identifier` field')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Only devices in this cohort (ID, or name within the product)')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'Only devices in this cohort (ID, or name within the product)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Only devices with this `key:value` tag (repeatable; all must match)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Only devices with this `key:value` tag (repeatable; all must match)')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Only devices with this hardware target')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would happen and change nothing')
            [CompletionResult]::new('--no-cohort', '--no-cohort', [CompletionResultType]::ParameterName, 'Only devices in no cohort')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;cohort;unassign' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Only devices of this product (name or ID)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Only devices of this product (name or ID)')
            [CompletionResult]::new('--from-file', '--from-file', [CompletionResultType]::ParameterName, 'Read devices from FILE (`-` for stdin): one identifier or ID per line, or NDJSON objects with an `id` or `identifier` field')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Only devices in this cohort (ID, or name within the product)')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'Only devices in this cohort (ID, or name within the product)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Only devices with this `key:value` tag (repeatable; all must match)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Only devices with this `key:value` tag (repeatable; all must match)')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Only devices with this hardware target')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would happen and change nothing')
            [CompletionResult]::new('--no-cohort', '--no-cohort', [CompletionResultType]::ParameterName, 'Only devices in no cohort')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;cohort;stats' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Refresh every SECS seconds (default 5) until Ctrl-C: redrawn in place on a terminal; otherwise each refresh is appended (a separator line with its time; one JSON object per line with -o json)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;cohort;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a cohort in a product')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List cohorts, of one product or all')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one cohort')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Rename a cohort or change its description')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a cohort')
            [CompletionResult]::new('assign', 'assign', [CompletionResultType]::ParameterValue, 'Put devices into a cohort')
            [CompletionResult]::new('unassign', 'unassign', [CompletionResultType]::ParameterValue, 'Take devices out of their cohorts')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Show a cohort''s statistics: devices, connection, firmware, its release (--watch to follow)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;cohort;help;create' {
            break
        }
        'fleet;cohort;help;list' {
            break
        }
        'fleet;cohort;help;show' {
            break
        }
        'fleet;cohort;help;update' {
            break
        }
        'fleet;cohort;help;delete' {
            break
        }
        'fleet;cohort;help;assign' {
            break
        }
        'fleet;cohort;help;unassign' {
            break
        }
        'fleet;cohort;help;stats' {
            break
        }
        'fleet;cohort;help;help' {
            break
        }
        'fleet;device' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Register a device in a product')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List devices, filtered by product, cohort, tags, target, quarantine, or what their check-ins said (online, seen within, running, update state)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one device: its settings, when it last checked in, what it runs, its update state')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a device''s cohort, tags, target, quarantine or description')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a device')
            [CompletionResult]::new('move', 'move', [CompletionResultType]::ParameterValue, 'Move devices to another product (they must be re-provisioned)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import devices from a CSV file')
            [CompletionResult]::new('cert', 'cert', [CompletionResultType]::ParameterValue, 'Register, list, revoke and issue device certificates')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;device;create' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Cohort of that product (name or ID)')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'Cohort of that product (name or ID)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'A `key:value` tag (repeatable)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'A `key:value` tag (repeatable)')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Hardware target triple, e.g. aarch64-unknown-linux-gnu')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Free text for people')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'Free text for people')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--if-not-exists', '--if-not-exists', [CompletionResultType]::ParameterName, 'If the device exists with the same product, cohort, tags, target and description (a flag not given means none), print it and exit 0; if any differ, exit 7 naming them')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;device;list' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Only devices of this product (name or ID)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Only devices of this product (name or ID)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Only devices in this cohort (ID, or name together with --product)')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'Only devices in this cohort (ID, or name together with --product)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Only devices with this `key:value` tag (repeatable; all must match)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Only devices with this `key:value` tag (repeatable; all must match)')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Only devices with this hardware target')
            [CompletionResult]::new('--seen-within', '--seen-within', [CompletionResultType]::ParameterName, 'Only devices that checked in within this long, e.g. 30m, 1h, 2d')
            [CompletionResult]::new('--running', '--running', [CompletionResultType]::ParameterName, 'Only devices running this artifact at this version, e.g. app@1.4.0')
            [CompletionResult]::new('--update-state', '--update-state', [CompletionResultType]::ParameterName, 'Only devices whose latest update state is this')
            [CompletionResult]::new('--sort', '--sort', [CompletionResultType]::ParameterName, 'The order: `id` (creation order) or `last-seen` (newest check-in first, devices never seen last)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--quarantined', '--quarantined', [CompletionResultType]::ParameterName, 'Only quarantined devices')
            [CompletionResult]::new('--online', '--online', [CompletionResultType]::ParameterName, 'Only devices that checked in within twice the check-in interval (10 minutes by default)')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Only devices that did not check in within twice the check-in interval, or never did')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Print every item, following pages to the end (streams; memory stays flat)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;device;show' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;device;update' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Move into this cohort of the device''s product (name or ID)')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'Move into this cohort of the device''s product (name or ID)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Replace all tags with these `key:value` tags (repeatable)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Replace all tags with these `key:value` tags (repeatable)')
            [CompletionResult]::new('--add-tag', '--add-tag', [CompletionResultType]::ParameterName, 'Add a tag (repeatable)')
            [CompletionResult]::new('--remove-tag', '--remove-tag', [CompletionResultType]::ParameterName, 'Remove a tag (repeatable)')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'New hardware target triple')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'New description')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'New description')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--no-cohort', '--no-cohort', [CompletionResultType]::ParameterName, 'Take the device out of its cohort')
            [CompletionResult]::new('--quarantine', '--quarantine', [CompletionResultType]::ParameterName, 'Stop releases from reaching the device')
            [CompletionResult]::new('--unquarantine', '--unquarantine', [CompletionResultType]::ParameterName, 'Let releases reach the device again')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;device;delete' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;device;move' {
            [CompletionResult]::new('--to-product', '--to-product', [CompletionResultType]::ParameterName, 'Product to move the devices to (name or ID)')
            [CompletionResult]::new('--to-cohort', '--to-cohort', [CompletionResultType]::ParameterName, 'Cohort of the target product the devices join (default: none)')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Only devices of this product (name or ID)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Only devices of this product (name or ID)')
            [CompletionResult]::new('--from-file', '--from-file', [CompletionResultType]::ParameterName, 'Read devices from FILE (`-` for stdin): one identifier or ID per line, or NDJSON objects with an `id` or `identifier` field')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Only devices in this cohort (ID, or name within the product)')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'Only devices in this cohort (ID, or name within the product)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Only devices with this `key:value` tag (repeatable; all must match)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Only devices with this `key:value` tag (repeatable; all must match)')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Only devices with this hardware target')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would happen and change nothing')
            [CompletionResult]::new('--no-cohort', '--no-cohort', [CompletionResultType]::ParameterName, 'Only devices in no cohort')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;device;import' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product to import into (name or ID)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product to import into (name or ID)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Cohort of that product for rows that name none')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'Cohort of that product for rows that name none')
            [CompletionResult]::new('--chunk-rows', '--chunk-rows', [CompletionResultType]::ParameterName, 'Send at most N rows per request, each chunk imported in its own transaction (not all or nothing; see below)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--update', '--update', [CompletionResultType]::ParameterName, 'Overwrite existing devices of the product whose values differ from the file''s')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Check the file and show what would happen; change nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;device;cert' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a certificate for a device')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List a device''s certificates')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a device''s certificate')
            [CompletionResult]::new('issue', 'issue', [CompletionResultType]::ParameterValue, 'Issue a device certificate under a local CA directory')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;device;cert;add' {
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'The device certificate (PEM file)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;device;cert;list' {
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Print every item, following pages to the end (streams; memory stays flat)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;device;cert;revoke' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why, kept with the certificate')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;device;cert;issue' {
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'CA directory holding ca.pem and ca.key')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Directory to write IDENTIFIER.pem and IDENTIFIER.key to (created if missing)')
            [CompletionResult]::new('--days', '--days', [CompletionResultType]::ParameterName, 'How long the certificate is valid, in days')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;device;cert;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a certificate for a device')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List a device''s certificates')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a device''s certificate')
            [CompletionResult]::new('issue', 'issue', [CompletionResultType]::ParameterValue, 'Issue a device certificate under a local CA directory')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;device;cert;help;add' {
            break
        }
        'fleet;device;cert;help;list' {
            break
        }
        'fleet;device;cert;help;revoke' {
            break
        }
        'fleet;device;cert;help;issue' {
            break
        }
        'fleet;device;cert;help;help' {
            break
        }
        'fleet;device;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Register a device in a product')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List devices, filtered by product, cohort, tags, target, quarantine, or what their check-ins said (online, seen within, running, update state)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one device: its settings, when it last checked in, what it runs, its update state')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a device''s cohort, tags, target, quarantine or description')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a device')
            [CompletionResult]::new('move', 'move', [CompletionResultType]::ParameterValue, 'Move devices to another product (they must be re-provisioned)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import devices from a CSV file')
            [CompletionResult]::new('cert', 'cert', [CompletionResultType]::ParameterValue, 'Register, list, revoke and issue device certificates')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;device;help;create' {
            break
        }
        'fleet;device;help;list' {
            break
        }
        'fleet;device;help;show' {
            break
        }
        'fleet;device;help;update' {
            break
        }
        'fleet;device;help;delete' {
            break
        }
        'fleet;device;help;move' {
            break
        }
        'fleet;device;help;import' {
            break
        }
        'fleet;device;help;cert' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a certificate for a device')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List a device''s certificates')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a device''s certificate')
            [CompletionResult]::new('issue', 'issue', [CompletionResultType]::ParameterValue, 'Issue a device certificate under a local CA directory')
            break
        }
        'fleet;device;help;cert;add' {
            break
        }
        'fleet;device;help;cert;list' {
            break
        }
        'fleet;device;help;cert;revoke' {
            break
        }
        'fleet;device;help;cert;issue' {
            break
        }
        'fleet;device;help;help' {
            break
        }
        'fleet;config' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show a configuration document (or with --effective, what devices get)')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set keys by dotted path (values are JSON, else text)')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove keys by dotted path (an override then inherits them again)')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Replace a whole document from a JSON file or stdin')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Edit a document in $EDITOR, checked before it is sent')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List a document''s revisions, newest first')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what changed between two revisions')
            [CompletionResult]::new('override', 'override', [CompletionResultType]::ParameterValue, 'Set or remove keys in many devices'' overrides at once (a bulk operation)')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Make an earlier revision''s document current again, as a new revision')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Show, set or remove the product''s JSON Schema')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;config;show' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'A cohort''s override (name or ID) instead of the product''s document')
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'A device''s override (identifier or ID) instead of the product''s document')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--effective', '--effective', [CompletionResultType]::ParameterName, 'Merge in the levels above (what a device of this level receives)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;config;set' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'A cohort''s override (name or ID) instead of the product''s document')
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'A device''s override (identifier or ID) instead of the product''s document')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Why, kept with the revision (shown by `fleet config history`)')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'Why, kept with the revision (shown by `fleet config history`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--secret', '--secret', [CompletionResultType]::ParameterName, 'Mark these keys secret: stored and sent to devices, shown to people as "***"')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;config;unset' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'A cohort''s override (name or ID) instead of the product''s document')
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'A device''s override (identifier or ID) instead of the product''s document')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Why, kept with the revision (shown by `fleet config history`)')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'Why, kept with the revision (shown by `fleet config history`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;config;apply' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'A cohort''s override (name or ID) instead of the product''s document')
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'A device''s override (identifier or ID) instead of the product''s document')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'A JSON object; `-` reads stdin')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'A JSON object; `-` reads stdin')
            [CompletionResult]::new('--secret', '--secret', [CompletionResultType]::ParameterName, 'Mark these dotted key paths secret (repeatable)')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Why, kept with the revision (shown by `fleet config history`)')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'Why, kept with the revision (shown by `fleet config history`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;config;edit' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'A cohort''s override (name or ID) instead of the product''s document')
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'A device''s override (identifier or ID) instead of the product''s document')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Why, kept with the revision (shown by `fleet config history`)')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'Why, kept with the revision (shown by `fleet config history`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;config;history' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'A cohort''s override (name or ID) instead of the product''s document')
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'A device''s override (identifier or ID) instead of the product''s document')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most N revisions (1–1000)')
            [CompletionResult]::new('--before', '--before', [CompletionResultType]::ParameterName, 'Only revisions older than this one')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;config;diff' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'A cohort''s override (name or ID) instead of the product''s document')
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'A device''s override (identifier or ID) instead of the product''s document')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;config;override' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'The devices'' product (name or ID)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'The devices'' product (name or ID)')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Set `key.path=value` in each override (repeatable)')
            [CompletionResult]::new('--unset', '--unset', [CompletionResultType]::ParameterName, 'Remove KEY from each override, so the device inherits it again (repeatable)')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Why, kept with the revision (shown by `fleet config history`)')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'Why, kept with the revision (shown by `fleet config history`)')
            [CompletionResult]::new('--from-file', '--from-file', [CompletionResultType]::ParameterName, 'Read devices from FILE (`-` for stdin): one identifier or ID per line, or NDJSON objects with an `id` or `identifier` field')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Only devices in this cohort (ID, or name within the product)')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'Only devices in this cohort (ID, or name within the product)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Only devices with this `key:value` tag (repeatable; all must match)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Only devices with this `key:value` tag (repeatable; all must match)')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Only devices with this hardware target')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would happen and change nothing')
            [CompletionResult]::new('--no-cohort', '--no-cohort', [CompletionResultType]::ParameterName, 'Only devices in no cohort')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;config;rollback' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'A cohort''s override (name or ID) instead of the product''s document')
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'A device''s override (identifier or ID) instead of the product''s document')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Why, kept with the revision (shown by `fleet config history`)')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'Why, kept with the revision (shown by `fleet config history`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;config;schema' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set the JSON Schema every effective configuration of the product must satisfy')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the product''s JSON Schema')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove the product''s JSON Schema (any JSON object is accepted again)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;config;schema;set' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'A JSON Schema (an object); `-` reads stdin')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'A JSON Schema (an object); `-` reads stdin')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;config;schema;show' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;config;schema;delete' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;config;schema;help' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set the JSON Schema every effective configuration of the product must satisfy')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the product''s JSON Schema')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove the product''s JSON Schema (any JSON object is accepted again)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;config;schema;help;set' {
            break
        }
        'fleet;config;schema;help;show' {
            break
        }
        'fleet;config;schema;help;delete' {
            break
        }
        'fleet;config;schema;help;help' {
            break
        }
        'fleet;config;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show a configuration document (or with --effective, what devices get)')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set keys by dotted path (values are JSON, else text)')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove keys by dotted path (an override then inherits them again)')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Replace a whole document from a JSON file or stdin')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Edit a document in $EDITOR, checked before it is sent')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List a document''s revisions, newest first')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what changed between two revisions')
            [CompletionResult]::new('override', 'override', [CompletionResultType]::ParameterValue, 'Set or remove keys in many devices'' overrides at once (a bulk operation)')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Make an earlier revision''s document current again, as a new revision')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Show, set or remove the product''s JSON Schema')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;config;help;show' {
            break
        }
        'fleet;config;help;set' {
            break
        }
        'fleet;config;help;unset' {
            break
        }
        'fleet;config;help;apply' {
            break
        }
        'fleet;config;help;edit' {
            break
        }
        'fleet;config;help;history' {
            break
        }
        'fleet;config;help;diff' {
            break
        }
        'fleet;config;help;override' {
            break
        }
        'fleet;config;help;rollback' {
            break
        }
        'fleet;config;help;schema' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set the JSON Schema every effective configuration of the product must satisfy')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the product''s JSON Schema')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove the product''s JSON Schema (any JSON object is accepted again)')
            break
        }
        'fleet;config;help;schema;set' {
            break
        }
        'fleet;config;help;schema;show' {
            break
        }
        'fleet;config;help;schema;delete' {
            break
        }
        'fleet;config;help;help' {
            break
        }
        'fleet;ca' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a CA certificate for a product''s devices')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List certificate authorities, of one product or all')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one certificate authority')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Enable or disable a certificate authority or change its JITP settings')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a certificate authority')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Make a new CA (certificate and key) in a local directory')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;ca;add' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'The CA certificate (PEM file)')
            [CompletionResult]::new('--jitp-cohort', '--jitp-cohort', [CompletionResultType]::ParameterName, 'Cohort (of the same product) new devices join')
            [CompletionResult]::new('--jitp-tag', '--jitp-tag', [CompletionResultType]::ParameterName, 'A `key:value` tag new devices get (repeatable)')
            [CompletionResult]::new('--jitp-target', '--jitp-target', [CompletionResultType]::ParameterName, 'Hardware target triple new devices get')
            [CompletionResult]::new('--jitp-description', '--jitp-description', [CompletionResultType]::ParameterName, 'Description new devices get')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--disabled', '--disabled', [CompletionResultType]::ParameterName, 'Register it disabled: it admits no device until `fleet ca update --enable`')
            [CompletionResult]::new('--jitp', '--jitp', [CompletionResultType]::ParameterName, 'Provision unknown devices with a certificate under this CA just in time')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;ca;list' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Only certificate authorities of this product (name or ID)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Only certificate authorities of this product (name or ID)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Print every item, following pages to the end (streams; memory stays flat)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;ca;show' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;ca;update' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--jitp', '--jitp', [CompletionResultType]::ParameterName, 'Turn just-in-time provisioning on or off')
            [CompletionResult]::new('--jitp-cohort', '--jitp-cohort', [CompletionResultType]::ParameterName, 'Cohort (of the same product) new devices join')
            [CompletionResult]::new('--jitp-tag', '--jitp-tag', [CompletionResultType]::ParameterName, 'A `key:value` tag new devices get (repeatable; replaces the whole set)')
            [CompletionResult]::new('--jitp-target', '--jitp-target', [CompletionResultType]::ParameterName, 'Hardware target triple new devices get')
            [CompletionResult]::new('--jitp-description', '--jitp-description', [CompletionResultType]::ParameterName, 'Description new devices get')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--enable', '--enable', [CompletionResultType]::ParameterName, 'Admit devices with certificates under this CA again')
            [CompletionResult]::new('--disable', '--disable', [CompletionResultType]::ParameterName, 'Admit no device with a certificate under this CA')
            [CompletionResult]::new('--no-jitp-cohort', '--no-jitp-cohort', [CompletionResultType]::ParameterName, 'New devices join no cohort')
            [CompletionResult]::new('--no-jitp-tags', '--no-jitp-tags', [CompletionResultType]::ParameterName, 'New devices get no tags')
            [CompletionResult]::new('--no-jitp-target', '--no-jitp-target', [CompletionResultType]::ParameterName, 'New devices get no target')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;ca;delete' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;ca;generate' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Directory to write ca.pem and ca.key to (created if missing; existing files are refused)')
            [CompletionResult]::new('--days', '--days', [CompletionResultType]::ParameterName, 'How long the CA certificate is valid, in days')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;ca;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a CA certificate for a product''s devices')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List certificate authorities, of one product or all')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one certificate authority')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Enable or disable a certificate authority or change its JITP settings')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a certificate authority')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Make a new CA (certificate and key) in a local directory')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;ca;help;add' {
            break
        }
        'fleet;ca;help;list' {
            break
        }
        'fleet;ca;help;show' {
            break
        }
        'fleet;ca;help;update' {
            break
        }
        'fleet;ca;help;delete' {
            break
        }
        'fleet;ca;help;generate' {
            break
        }
        'fleet;ca;help;help' {
            break
        }
        'fleet;api-key' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an API key; its secret is printed once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List API keys (never their secrets)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one API key')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke an API key: it stops working with the next request')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;api-key;create' {
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'What the key may do: `read`, `write` (fleet resources) or `admin` (also keys)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Limit the key to this product (name or ID; repeatable). Default: every product')
            [CompletionResult]::new('--expires-in', '--expires-in', [CompletionResultType]::ParameterName, 'Let the key expire after this long, e.g. 90d, 12h')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;api-key;list' {
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--revoked', '--revoked', [CompletionResultType]::ParameterName, 'Include revoked keys')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Print every item, following pages to the end (streams; memory stays flat)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;api-key;show' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;api-key;revoke' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;api-key;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an API key; its secret is printed once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List API keys (never their secrets)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one API key')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke an API key: it stops working with the next request')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;api-key;help;create' {
            break
        }
        'fleet;api-key;help;list' {
            break
        }
        'fleet;api-key;help;show' {
            break
        }
        'fleet;api-key;help;revoke' {
            break
        }
        'fleet;api-key;help;help' {
            break
        }
        'fleet;event' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List audit events, oldest first')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;event;list' {
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Only events of this product (name or ID)')
            [CompletionResult]::new('--resource', '--resource', [CompletionResultType]::ParameterName, 'Only events about this resource (its ID)')
            [CompletionResult]::new('--action', '--action', [CompletionResultType]::ParameterName, 'Only events of this action, e.g. `product.created`, or a prefix such as `device.*`')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Only events by this API key (ID or name)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only events in the last DURATION, e.g. 1h, 7d')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Print every item, following pages to the end (streams; memory stays flat)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;event;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List audit events, oldest first')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;event;help;list' {
            break
        }
        'fleet;event;help;help' {
            break
        }
        'fleet;firmware' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Upload a firmware file (resumable, verified), optionally sign and release it')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List binaries')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one binary')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'Download a ready binary to a file, verifying its SHA-256')
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'Show or change a product''s firmware policy (signed firmware required?)')
            [CompletionResult]::new('abandon', 'abandon', [CompletionResultType]::ParameterValue, 'Give up an unfinished upload: delete the binary and the parts it received')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;firmware;push' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Artifact (firmware type, e.g. `app`); created when missing')
            [CompletionResult]::new('--artifact', '--artifact', [CompletionResultType]::ParameterName, 'Artifact (firmware type, e.g. `app`); created when missing')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Version string, e.g. 1.4.0; created when missing')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Hardware target, e.g. armv7-unknown-linux-gnueabihf')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Hardware target, e.g. armv7-unknown-linux-gnueabihf')
            [CompletionResult]::new('--sign-key', '--sign-key', [CompletionResultType]::ParameterName, 'Sign with this Ed25519 private key (PKCS#8 PEM); repeatable')
            [CompletionResult]::new('--release-to', '--release-to', [CompletionResultType]::ParameterName, 'Release the binary to this cohort of the product (as a one-binary bundle); needs --rollout, e.g. `--release-to beta --rollout 10`')
            [CompletionResult]::new('--rollout', '--rollout', [CompletionResultType]::ParameterName, 'Share of the cohort''s devices to roll out to (0–100), required with --release-to: start small (e.g. 10) and raise it later with `fleet release update ID --rollout 50`')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Description of the version, when it is created')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'Description of the version, when it is created')
            [CompletionResult]::new('--parallel', '--parallel', [CompletionResultType]::ParameterName, 'Parts uploaded at once; memory use is about this many parts')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'fleet;firmware;list' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Only binaries of this product (name or ID)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Only binaries of this product (name or ID)')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Only this artifact (name with --product, or ID)')
            [CompletionResult]::new('--artifact', '--artifact', [CompletionResultType]::ParameterName, 'Only this artifact (name with --product, or ID)')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Only this version')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Only this target')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Only this target')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--ready', '--ready', [CompletionResultType]::ParameterName, 'Only ready binaries (not unfinished uploads)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Print every item, following pages to the end (streams; memory stays flat)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'fleet;firmware;show' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Artifact name or ID')
            [CompletionResult]::new('--artifact', '--artifact', [CompletionResultType]::ParameterName, 'Artifact name or ID')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Version string')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Hardware target')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Hardware target')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'fleet;firmware;pull' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Artifact name or ID')
            [CompletionResult]::new('--artifact', '--artifact', [CompletionResultType]::ParameterName, 'Artifact name or ID')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Version string')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Hardware target')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Hardware target')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Where to write the file; an existing file is refused unless --force')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace FILE if it exists (only once the download verified)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'fleet;firmware;policy' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--require-signed', '--require-signed', [CompletionResultType]::ParameterName, 'Require every binary of a released bundle to be signed')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;firmware;abandon' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Artifact name or ID')
            [CompletionResult]::new('--artifact', '--artifact', [CompletionResultType]::ParameterName, 'Artifact name or ID')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Version string')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Hardware target')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Hardware target')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'fleet;firmware;help' {
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Upload a firmware file (resumable, verified), optionally sign and release it')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List binaries')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one binary')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'Download a ready binary to a file, verifying its SHA-256')
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'Show or change a product''s firmware policy (signed firmware required?)')
            [CompletionResult]::new('abandon', 'abandon', [CompletionResultType]::ParameterValue, 'Give up an unfinished upload: delete the binary and the parts it received')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;firmware;help;push' {
            break
        }
        'fleet;firmware;help;list' {
            break
        }
        'fleet;firmware;help;show' {
            break
        }
        'fleet;firmware;help;pull' {
            break
        }
        'fleet;firmware;help;policy' {
            break
        }
        'fleet;firmware;help;abandon' {
            break
        }
        'fleet;firmware;help;help' {
            break
        }
        'fleet;signing-key' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Make a new key pair: private key to a file (0600), public key registered')
            [CompletionResult]::new('register', 'register', [CompletionResultType]::ParameterValue, 'Register an existing public key (or the public half of a private key file)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List registered keys')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a registered key (its signatures go too)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;signing-key;generate' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Where to write the private key; must not exist')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;signing-key;register' {
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'File holding the key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'File holding the key')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;signing-key;list' {
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Print every item, following pages to the end (streams; memory stays flat)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;signing-key;delete' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;signing-key;help' {
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Make a new key pair: private key to a file (0600), public key registered')
            [CompletionResult]::new('register', 'register', [CompletionResultType]::ParameterValue, 'Register an existing public key (or the public half of a private key file)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List registered keys')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a registered key (its signatures go too)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;signing-key;help;generate' {
            break
        }
        'fleet;signing-key;help;register' {
            break
        }
        'fleet;signing-key;help;list' {
            break
        }
        'fleet;signing-key;help;delete' {
            break
        }
        'fleet;signing-key;help;help' {
            break
        }
        'fleet;bundle' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a bundle from ready binaries of one product')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List a product''s bundles')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one bundle')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;bundle;create' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Binary ID, in install order; repeatable (`fleet firmware list -o id` prints them)')
            [CompletionResult]::new('--binary', '--binary', [CompletionResultType]::ParameterName, 'Binary ID, in install order; repeatable (`fleet firmware list -o id` prints them)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'What the bundle is for')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'What the bundle is for')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;bundle;list' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Print every item, following pages to the end (streams; memory stays flat)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;bundle;show' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID; not needed with a bundle ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID; not needed with a bundle ID')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;bundle;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a bundle from ready binaries of one product')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List a product''s bundles')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one bundle')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;bundle;help;create' {
            break
        }
        'fleet;bundle;help;list' {
            break
        }
        'fleet;bundle;help;show' {
            break
        }
        'fleet;bundle;help;help' {
            break
        }
        'fleet;release' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Release a bundle to a cohort')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List a product''s releases (a cohort''s history with --cohort)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one release')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a release''s rollout, schedule, guard or whether it is required')
            [CompletionResult]::new('halt', 'halt', [CompletionResultType]::ParameterValue, 'Stop offering a release to devices that have not started it')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Offer a halted release again')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Move a release''s rollout to its next step (or --to a percentage) now')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show how far a release got: states, success rate, failure reasons (--watch to follow)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;release;create' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Cohort name or ID')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'Cohort name or ID')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Bundle name or ID')
            [CompletionResult]::new('--bundle', '--bundle', [CompletionResultType]::ParameterName, 'Bundle name or ID')
            [CompletionResult]::new('--rollout', '--rollout', [CompletionResultType]::ParameterName, 'Share of the cohort''s devices to roll out to [default: 100]')
            [CompletionResult]::new('--schedule', '--schedule', [CompletionResultType]::ParameterName, 'Steps the rollout takes by itself, e.g. 1%,10%@1h,50%@6h,100%@24h: the first applies now, each later one when its wait (from the previous step) has passed and the release is not halted')
            [CompletionResult]::new('--halt-on-failure-rate', '--halt-on-failure-rate', [CompletionResultType]::ParameterName, 'Halt the release when more than this share of the devices that finished it failed')
            [CompletionResult]::new('--min-reports', '--min-reports', [CompletionResultType]::ParameterName, 'Devices that must have finished before the guard judges [default: 20]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--required', '--required', [CompletionResultType]::ParameterName, 'Devices must install it')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;release;list' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Only this cohort''s releases (name or ID)')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'Only this cohort''s releases (name or ID)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Print every item, following pages to the end (streams; memory stays flat)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;release;show' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID (optional: the release is found by its ID)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID (optional: the release is found by its ID)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;release;update' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID (optional: the release is found by its ID)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID (optional: the release is found by its ID)')
            [CompletionResult]::new('--rollout', '--rollout', [CompletionResultType]::ParameterName, 'New rollout percentage (the release leaves its schedule)')
            [CompletionResult]::new('--required', '--required', [CompletionResultType]::ParameterName, 'Whether devices must install it')
            [CompletionResult]::new('--schedule', '--schedule', [CompletionResultType]::ParameterName, 'Steps the rollout takes by itself, e.g. 1%,10%@1h,50%@6h,100%@24h: the first applies now, each later one when its wait (from the previous step) has passed and the release is not halted')
            [CompletionResult]::new('--halt-on-failure-rate', '--halt-on-failure-rate', [CompletionResultType]::ParameterName, 'Halt the release when more than this share of the devices that finished it failed')
            [CompletionResult]::new('--min-reports', '--min-reports', [CompletionResultType]::ParameterName, 'Devices that must have finished before the guard judges [default: 20]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;release;halt' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID (optional: the release is found by its ID)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID (optional: the release is found by its ID)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;release;resume' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID (optional: the release is found by its ID)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID (optional: the release is found by its ID)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;release;promote' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID (optional: the release is found by its ID)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID (optional: the release is found by its ID)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Go to this percentage instead of the next step')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;release;status' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID (optional: the release is found by its ID)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID (optional: the release is found by its ID)')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Refresh every SECS seconds (default 5) until Ctrl-C: redrawn in place on a terminal; otherwise each refresh is appended (a separator line with its time; one JSON object per line with -o json)')
            [CompletionResult]::new('--until-rollout', '--until-rollout', [CompletionResultType]::ParameterName, 'The rollout percentage to wait for')
            [CompletionResult]::new('--success-rate', '--success-rate', [CompletionResultType]::ParameterName, 'Once the rollout is reached, at least this share of the devices that finished must have succeeded')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long')
            [CompletionResult]::new('--poll', '--poll', [CompletionResultType]::ParameterName, 'How often to look')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Block until the release reaches the bar (exit 0), is halted or misses the bar (exit 9), or --timeout passes (exit 3)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;release;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Release a bundle to a cohort')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List a product''s releases (a cohort''s history with --cohort)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one release')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a release''s rollout, schedule, guard or whether it is required')
            [CompletionResult]::new('halt', 'halt', [CompletionResultType]::ParameterValue, 'Stop offering a release to devices that have not started it')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Offer a halted release again')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Move a release''s rollout to its next step (or --to a percentage) now')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show how far a release got: states, success rate, failure reasons (--watch to follow)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;release;help;create' {
            break
        }
        'fleet;release;help;list' {
            break
        }
        'fleet;release;help;show' {
            break
        }
        'fleet;release;help;update' {
            break
        }
        'fleet;release;help;halt' {
            break
        }
        'fleet;release;help;resume' {
            break
        }
        'fleet;release;help;promote' {
            break
        }
        'fleet;release;help;status' {
            break
        }
        'fleet;release;help;help' {
            break
        }
        'fleet;simulate' {
            [CompletionResult]::new('--device-url', '--device-url', [CompletionResultType]::ParameterName, 'The device API''s URL (`fleet server --device-listen`), e.g. https://127.0.0.1:8443')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Number of devices [default with --certs: every pair in the directory]')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'Issue each device a certificate under the CA in DIR (`fleet ca generate`); identifiers sim-0000, sim-0001, …, provisioned by JITP on their first check-in')
            [CompletionResult]::new('--first', '--first', [CompletionResultType]::ParameterName, 'With --ca, the number of the first device: identifiers start at sim-N. A device''s number alone makes its identifier (at least four digits: sim-0042, sim-10000), so runs with --first 0, 10000, 20000 … and --count 10000 make distinct devices')
            [CompletionResult]::new('--certs', '--certs', [CompletionResultType]::ParameterName, 'Use existing device certificates: <identifier>.pem and <identifier>.key pairs in DIR')
            [CompletionResult]::new('--server-fingerprint', '--server-fingerprint', [CompletionResultType]::ParameterName, 'Trust the server whose certificate has this SHA-256 fingerprint (`fleet server` prints it)')
            [CompletionResult]::new('--server-ca', '--server-ca', [CompletionResultType]::ParameterName, 'Trust server certificates issued by the CA(s) in this PEM file')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between a device''s check-ins (jittered ±10%; the first falls anywhere within one)')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long the run lasts at most (in the load mode: each phase)')
            [CompletionResult]::new('--fail-rate', '--fail-rate', [CompletionResultType]::ParameterName, 'Share of installs that fail, from 0 to 1 (the same devices for the same --seed)')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed of every random choice (jitter, failing devices): the same seed, the same run')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Hardware target the devices report, e.g. armv7-unknown-linux-gnueabihf')
            [CompletionResult]::new('--running', '--running', [CompletionResultType]::ParameterName, 'What each device runs at start, as ARTIFACT@VERSION (repeat for more artifacts)')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Devices connecting at once (TLS handshake and first check-in, where JITP happens)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check the server''s certificate at all (development only; a warning says so)')
            [CompletionResult]::new('--until-settled', '--until-settled', [CompletionResultType]::ParameterName, 'Stop as soon as every device reported a final state or has nothing offered (--duration still bounds the run)')
            [CompletionResult]::new('--check-ins-only', '--check-ins-only', [CompletionResultType]::ParameterName, 'Load mode: after every device connected, check in back to back for --duration (no interval, no updates taken); measures check-ins/s and latency')
            [CompletionResult]::new('--ping', '--ping', [CompletionResultType]::ParameterName, 'Load mode: authenticated no-op requests back to back for --duration, over the same connections (after the check-ins, with --check-ins-only): the baseline')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;whoami' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;profile' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add or replace a profile')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List profiles; `*` marks the default')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show a profile (never its API key)')
            [CompletionResult]::new('use', 'use', [CompletionResultType]::ParameterValue, 'Make a profile the default')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a profile and its stored API key')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;profile;add' {
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--api-key-stdin', '--api-key-stdin', [CompletionResultType]::ParameterName, 'Read the API key from the first line of stdin instead of prompting')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace the profile if it exists, without asking')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;profile;list' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;profile;show' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;profile;use' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;profile;remove' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;profile;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add or replace a profile')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List profiles; `*` marks the default')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show a profile (never its API key)')
            [CompletionResult]::new('use', 'use', [CompletionResultType]::ParameterValue, 'Make a profile the default')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a profile and its stored API key')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;profile;help;add' {
            break
        }
        'fleet;profile;help;list' {
            break
        }
        'fleet;profile;help;show' {
            break
        }
        'fleet;profile;help;use' {
            break
        }
        'fleet;profile;help;remove' {
            break
        }
        'fleet;profile;help;help' {
            break
        }
        'fleet;completions' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;server' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address and port to listen on')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Directory for the database and the local blob store [default: the platform data directory, e.g. ~/.local/share/fleet]')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'PostgreSQL database for the service''s state, e.g. postgres://fleet:PASSWORD@db.internal:5432/fleet; replicas share one [default: SQLite, fleet.db in the data directory]')
            [CompletionResult]::new('--auth-failures-per-minute', '--auth-failures-per-minute', [CompletionResultType]::ParameterName, 'Invalid API keys one client address may present per minute; after that its invalid keys get 429 until the minute is over (valid keys keep working)')
            [CompletionResult]::new('--upload-expiry', '--upload-expiry', [CompletionResultType]::ParameterName, 'Abandon an unfinished firmware upload after it saw no activity for this long (its parts are deleted), e.g. 24h, 90m; the same sweep deletes orphaned part files')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'Connections served at once; when all are taken, the longest-idle one is closed to make room [default: 10000, lowered to fit the open-file limit]')
            [CompletionResult]::new('--header-timeout', '--header-timeout', [CompletionResultType]::ParameterName, 'Time a client has to send a complete request head (request line and headers), counted from the connection opening or the previous response; then the connection is closed')
            [CompletionResult]::new('--body-timeout', '--body-timeout', [CompletionResultType]::ParameterName, 'Time a request body may go without any data arriving; then the request gets 408')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Time a connection may sit with nothing read or written while no request is being handled (idle keep-alive, a client that stopped reading); then it is closed')
            [CompletionResult]::new('--trusted-proxy', '--trusted-proxy', [CompletionResultType]::ParameterName, 'A reverse proxy (CIDR range or address) whose X-Forwarded-For names the client, for brute-force protection; repeatable. From other peers the header is ignored')
            [CompletionResult]::new('--device-listen', '--device-listen', [CompletionResultType]::ParameterName, 'Address and port of the device API (mutual TLS: devices present X.509 client certificates); without it the service has no device listener')
            [CompletionResult]::new('--device-tls-cert', '--device-tls-cert', [CompletionResultType]::ParameterName, 'The device API''s server certificate (PEM, chain after it) [default: a self-signed one generated into the data directory on first start, device-tls.pem]')
            [CompletionResult]::new('--device-tls-key', '--device-tls-key', [CompletionResultType]::ParameterName, 'The private key of --device-tls-cert (PEM)')
            [CompletionResult]::new('--check-in-interval', '--check-in-interval', [CompletionResultType]::ParameterName, 'How often devices are told to check in (each check-in''s answer says so), 10s to 1d; a device counts as online while its last check-in is at most 2 intervals old')
            [CompletionResult]::new('--device-keep-alive', '--device-keep-alive', [CompletionResultType]::ParameterName, 'How long a device''s connection stays open waiting for its next request, 10s to 1d. Devices have proven who they are (mutual TLS) before this applies, so it replaces --header-timeout and --idle-timeout there; --max-connections still bounds how many are kept [default: the check-in interval + 1m, so a device checking in on time reuses its connection instead of a full TLS handshake]')
            [CompletionResult]::new('--device-downloads', '--device-downloads', [CompletionResultType]::ParameterName, 'How devices download offered firmware: through the device API, or (with an S3 blob store) from a short-lived presigned URL of the bucket, so the bytes do not pass through the service; binaries copied from a local blob store by `fleet server migrate` are kept as several part objects and still download through the device API')
            [CompletionResult]::new('--presigned-url-ttl', '--presigned-url-ttl', [CompletionResultType]::ParameterName, 'How long a presigned download URL works, 1m to 24h (with --device-downloads presigned); a device that starts later checks in again for a fresh one')
            [CompletionResult]::new('--blob-store', '--blob-store', [CompletionResultType]::ParameterName, 'Keep firmware binaries in an S3-compatible bucket instead of <DIR>/blobs, e.g. s3://fleet-firmware/prod; every replica of one deployment uses the same bucket')
            [CompletionResult]::new('--s3-endpoint', '--s3-endpoint', [CompletionResultType]::ParameterName, 'S3-compatible server instead of AWS, e.g. https://minio.example.net:9000 (plain http only to 127.0.0.1, for test servers)')
            [CompletionResult]::new('--s3-region', '--s3-region', [CompletionResultType]::ParameterName, 'Region of the bucket [default: $AWS_DEFAULT_REGION, else us-east-1]')
            [CompletionResult]::new('--s3-access-key-id', '--s3-access-key-id', [CompletionResultType]::ParameterName, 'Access key ID of the bucket''s credentials')
            [CompletionResult]::new('--s3-secret-access-key', '--s3-secret-access-key', [CompletionResultType]::ParameterName, 'Secret access key (prefer the variable: a flag shows in the process list)')
            [CompletionResult]::new('--s3-session-token', '--s3-session-token', [CompletionResultType]::ParameterName, 'Session token of temporary credentials')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--no-profile', '--no-profile', [CompletionResultType]::ParameterName, 'Do not save a new admin key as a profile; write it to <DIR>/admin-api-key (mode 0600)')
            [CompletionResult]::new('--s3-path-style', '--s3-path-style', [CompletionResultType]::ParameterName, 'Path-style requests (ENDPOINT/BUCKET/KEY), as MinIO, moto and most self-hosted servers want; without it, virtual-hosted style (BUCKET.ENDPOINT/KEY)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('api-key', 'api-key', [CompletionResultType]::ParameterValue, 'Manage API keys directly in the database, without a running service')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Copy a deployment to another database (e.g. SQLite to PostgreSQL) and verify the copy')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;server;api-key' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an org-wide API key in the database (recovery when every admin key is lost)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;server;api-key;create' {
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The service''s data directory (holding fleet.db) [default: the same as `fleet server`''s, the platform data directory, e.g. ~/.local/share/fleet]')
            [CompletionResult]::new('--database-url', '--database-url', [CompletionResultType]::ParameterName, 'PostgreSQL database for the service''s state, e.g. postgres://fleet:PASSWORD@db.internal:5432/fleet; replicas share one [default: SQLite, fleet.db in the data directory]')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'The key''s role: `read`, `write` or `admin`')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'A name for the key')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;server;api-key;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an org-wide API key in the database (recovery when every admin key is lost)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;server;api-key;help;create' {
            break
        }
        'fleet;server;api-key;help;help' {
            break
        }
        'fleet;server;migrate' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'The deployment to copy: `sqlite:DIR` (a data directory, or the fleet.db in it) or a postgres:// URL')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Where to copy it: a postgres:// URL, or `sqlite:DIR` (a data directory, created when missing)')
            [CompletionResult]::new('--from-data-dir', '--from-data-dir', [CompletionResultType]::ParameterName, 'With a PostgreSQL --from: the data directory whose blobs/ holds its firmware [default: the platform data directory, e.g. ~/.local/share/fleet]')
            [CompletionResult]::new('--to-data-dir', '--to-data-dir', [CompletionResultType]::ParameterName, 'With a PostgreSQL --to: the data directory the new deployment runs with; the firmware blobs are copied into its blobs/ [default: the source''s data directory, whose blobs stay where they are]')
            [CompletionResult]::new('--blob-store', '--blob-store', [CompletionResultType]::ParameterName, 'Keep firmware binaries in an S3-compatible bucket instead of <DIR>/blobs, e.g. s3://fleet-firmware/prod; every replica of one deployment uses the same bucket')
            [CompletionResult]::new('--s3-endpoint', '--s3-endpoint', [CompletionResultType]::ParameterName, 'S3-compatible server instead of AWS, e.g. https://minio.example.net:9000 (plain http only to 127.0.0.1, for test servers)')
            [CompletionResult]::new('--s3-region', '--s3-region', [CompletionResultType]::ParameterName, 'Region of the bucket [default: $AWS_DEFAULT_REGION, else us-east-1]')
            [CompletionResult]::new('--s3-access-key-id', '--s3-access-key-id', [CompletionResultType]::ParameterName, 'Access key ID of the bucket''s credentials')
            [CompletionResult]::new('--s3-secret-access-key', '--s3-secret-access-key', [CompletionResultType]::ParameterName, 'Secret access key (prefer the variable: a flag shows in the process list)')
            [CompletionResult]::new('--s3-session-token', '--s3-session-token', [CompletionResultType]::ParameterName, 'Session token of temporary credentials')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--s3-path-style', '--s3-path-style', [CompletionResultType]::ParameterName, 'Path-style requests (ENDPOINT/BUCKET/KEY), as MinIO, moto and most self-hosted servers want; without it, virtual-hosted style (BUCKET.ENDPOINT/KEY)')
            [CompletionResult]::new('--replace', '--replace', [CompletionResultType]::ParameterName, 'Delete what the target database holds (a deployment started there by mistake) instead of refusing to copy into it')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only data and errors: no status lines, hints or progress')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what is happening (requests, timings)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Answer yes to confirmations (needed for destructive commands without a terminal)')
            [CompletionResult]::new('--no-input', '--no-input', [CompletionResultType]::ParameterName, 'Never prompt; fail instead when input would be needed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'fleet;server;help' {
            [CompletionResult]::new('api-key', 'api-key', [CompletionResultType]::ParameterValue, 'Manage API keys directly in the database, without a running service')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Copy a deployment to another database (e.g. SQLite to PostgreSQL) and verify the copy')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;server;help;api-key' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an org-wide API key in the database (recovery when every admin key is lost)')
            break
        }
        'fleet;server;help;api-key;create' {
            break
        }
        'fleet;server;help;migrate' {
            break
        }
        'fleet;server;help;help' {
            break
        }
        'fleet;help' {
            [CompletionResult]::new('product', 'product', [CompletionResultType]::ParameterValue, 'Manage products: the device types of your organization')
            [CompletionResult]::new('cohort', 'cohort', [CompletionResultType]::ParameterValue, 'Manage cohorts: groups of devices within a product')
            [CompletionResult]::new('device', 'device', [CompletionResultType]::ParameterValue, 'Manage devices')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Manage configurations of products, cohorts and devices')
            [CompletionResult]::new('ca', 'ca', [CompletionResultType]::ParameterValue, 'Manage the CAs whose certificates admit a product''s devices')
            [CompletionResult]::new('api-key', 'api-key', [CompletionResultType]::ParameterValue, 'Manage API keys: roles, product scopes, expiry, revocation')
            [CompletionResult]::new('event', 'event', [CompletionResultType]::ParameterValue, 'Read the audit log: every write and refused request')
            [CompletionResult]::new('firmware', 'firmware', [CompletionResultType]::ParameterValue, 'Push, list, show, pull and abandon firmware binaries')
            [CompletionResult]::new('signing-key', 'signing-key', [CompletionResultType]::ParameterValue, 'Manage Ed25519 keys that sign firmware')
            [CompletionResult]::new('bundle', 'bundle', [CompletionResultType]::ParameterValue, 'Manage bundles: ordered sets of a product''s binaries')
            [CompletionResult]::new('release', 'release', [CompletionResultType]::ParameterValue, 'Manage releases: bundles rolled out to cohorts')
            [CompletionResult]::new('simulate', 'simulate', [CompletionResultType]::ParameterValue, 'Run simulated devices against the device API: check-ins, updates, reports')
            [CompletionResult]::new('whoami', 'whoami', [CompletionResultType]::ParameterValue, 'Show the profile, URL and API key in effect and where each came from')
            [CompletionResult]::new('profile', 'profile', [CompletionResultType]::ParameterValue, 'Manage connection profiles (service URL + API key)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('server', 'server', [CompletionResultType]::ParameterValue, 'Run the fleet service: the HTTP API over an embedded SQLite database, or over PostgreSQL with `--database-url`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;help;product' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a product')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List products')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one product')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a product''s name, description or tags')
            [CompletionResult]::new('archive', 'archive', [CompletionResultType]::ParameterValue, 'Archive a product: it stays readable but accepts no new devices or cohorts')
            [CompletionResult]::new('unarchive', 'unarchive', [CompletionResultType]::ParameterValue, 'Make an archived product active again')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a product that has no devices (its cohorts go with it)')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Show a product''s statistics: devices, connection, firmware, rollouts (--watch to follow)')
            break
        }
        'fleet;help;product;create' {
            break
        }
        'fleet;help;product;list' {
            break
        }
        'fleet;help;product;show' {
            break
        }
        'fleet;help;product;update' {
            break
        }
        'fleet;help;product;archive' {
            break
        }
        'fleet;help;product;unarchive' {
            break
        }
        'fleet;help;product;delete' {
            break
        }
        'fleet;help;product;stats' {
            break
        }
        'fleet;help;cohort' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a cohort in a product')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List cohorts, of one product or all')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one cohort')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Rename a cohort or change its description')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a cohort')
            [CompletionResult]::new('assign', 'assign', [CompletionResultType]::ParameterValue, 'Put devices into a cohort')
            [CompletionResult]::new('unassign', 'unassign', [CompletionResultType]::ParameterValue, 'Take devices out of their cohorts')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Show a cohort''s statistics: devices, connection, firmware, its release (--watch to follow)')
            break
        }
        'fleet;help;cohort;create' {
            break
        }
        'fleet;help;cohort;list' {
            break
        }
        'fleet;help;cohort;show' {
            break
        }
        'fleet;help;cohort;update' {
            break
        }
        'fleet;help;cohort;delete' {
            break
        }
        'fleet;help;cohort;assign' {
            break
        }
        'fleet;help;cohort;unassign' {
            break
        }
        'fleet;help;cohort;stats' {
            break
        }
        'fleet;help;device' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Register a device in a product')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List devices, filtered by product, cohort, tags, target, quarantine, or what their check-ins said (online, seen within, running, update state)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one device: its settings, when it last checked in, what it runs, its update state')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a device''s cohort, tags, target, quarantine or description')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a device')
            [CompletionResult]::new('move', 'move', [CompletionResultType]::ParameterValue, 'Move devices to another product (they must be re-provisioned)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Import devices from a CSV file')
            [CompletionResult]::new('cert', 'cert', [CompletionResultType]::ParameterValue, 'Register, list, revoke and issue device certificates')
            break
        }
        'fleet;help;device;create' {
            break
        }
        'fleet;help;device;list' {
            break
        }
        'fleet;help;device;show' {
            break
        }
        'fleet;help;device;update' {
            break
        }
        'fleet;help;device;delete' {
            break
        }
        'fleet;help;device;move' {
            break
        }
        'fleet;help;device;import' {
            break
        }
        'fleet;help;device;cert' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a certificate for a device')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List a device''s certificates')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke a device''s certificate')
            [CompletionResult]::new('issue', 'issue', [CompletionResultType]::ParameterValue, 'Issue a device certificate under a local CA directory')
            break
        }
        'fleet;help;device;cert;add' {
            break
        }
        'fleet;help;device;cert;list' {
            break
        }
        'fleet;help;device;cert;revoke' {
            break
        }
        'fleet;help;device;cert;issue' {
            break
        }
        'fleet;help;config' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show a configuration document (or with --effective, what devices get)')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set keys by dotted path (values are JSON, else text)')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove keys by dotted path (an override then inherits them again)')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Replace a whole document from a JSON file or stdin')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Edit a document in $EDITOR, checked before it is sent')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List a document''s revisions, newest first')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show what changed between two revisions')
            [CompletionResult]::new('override', 'override', [CompletionResultType]::ParameterValue, 'Set or remove keys in many devices'' overrides at once (a bulk operation)')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Make an earlier revision''s document current again, as a new revision')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Show, set or remove the product''s JSON Schema')
            break
        }
        'fleet;help;config;show' {
            break
        }
        'fleet;help;config;set' {
            break
        }
        'fleet;help;config;unset' {
            break
        }
        'fleet;help;config;apply' {
            break
        }
        'fleet;help;config;edit' {
            break
        }
        'fleet;help;config;history' {
            break
        }
        'fleet;help;config;diff' {
            break
        }
        'fleet;help;config;override' {
            break
        }
        'fleet;help;config;rollback' {
            break
        }
        'fleet;help;config;schema' {
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set the JSON Schema every effective configuration of the product must satisfy')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show the product''s JSON Schema')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove the product''s JSON Schema (any JSON object is accepted again)')
            break
        }
        'fleet;help;config;schema;set' {
            break
        }
        'fleet;help;config;schema;show' {
            break
        }
        'fleet;help;config;schema;delete' {
            break
        }
        'fleet;help;ca' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a CA certificate for a product''s devices')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List certificate authorities, of one product or all')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one certificate authority')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Enable or disable a certificate authority or change its JITP settings')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a certificate authority')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Make a new CA (certificate and key) in a local directory')
            break
        }
        'fleet;help;ca;add' {
            break
        }
        'fleet;help;ca;list' {
            break
        }
        'fleet;help;ca;show' {
            break
        }
        'fleet;help;ca;update' {
            break
        }
        'fleet;help;ca;delete' {
            break
        }
        'fleet;help;ca;generate' {
            break
        }
        'fleet;help;api-key' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an API key; its secret is printed once')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List API keys (never their secrets)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one API key')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke an API key: it stops working with the next request')
            break
        }
        'fleet;help;api-key;create' {
            break
        }
        'fleet;help;api-key;list' {
            break
        }
        'fleet;help;api-key;show' {
            break
        }
        'fleet;help;api-key;revoke' {
            break
        }
        'fleet;help;event' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List audit events, oldest first')
            break
        }
        'fleet;help;event;list' {
            break
        }
        'fleet;help;firmware' {
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Upload a firmware file (resumable, verified), optionally sign and release it')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List binaries')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one binary')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'Download a ready binary to a file, verifying its SHA-256')
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'Show or change a product''s firmware policy (signed firmware required?)')
            [CompletionResult]::new('abandon', 'abandon', [CompletionResultType]::ParameterValue, 'Give up an unfinished upload: delete the binary and the parts it received')
            break
        }
        'fleet;help;firmware;push' {
            break
        }
        'fleet;help;firmware;list' {
            break
        }
        'fleet;help;firmware;show' {
            break
        }
        'fleet;help;firmware;pull' {
            break
        }
        'fleet;help;firmware;policy' {
            break
        }
        'fleet;help;firmware;abandon' {
            break
        }
        'fleet;help;signing-key' {
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Make a new key pair: private key to a file (0600), public key registered')
            [CompletionResult]::new('register', 'register', [CompletionResultType]::ParameterValue, 'Register an existing public key (or the public half of a private key file)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List registered keys')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a registered key (its signatures go too)')
            break
        }
        'fleet;help;signing-key;generate' {
            break
        }
        'fleet;help;signing-key;register' {
            break
        }
        'fleet;help;signing-key;list' {
            break
        }
        'fleet;help;signing-key;delete' {
            break
        }
        'fleet;help;bundle' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a bundle from ready binaries of one product')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List a product''s bundles')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one bundle')
            break
        }
        'fleet;help;bundle;create' {
            break
        }
        'fleet;help;bundle;list' {
            break
        }
        'fleet;help;bundle;show' {
            break
        }
        'fleet;help;release' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Release a bundle to a cohort')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List a product''s releases (a cohort''s history with --cohort)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one release')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a release''s rollout, schedule, guard or whether it is required')
            [CompletionResult]::new('halt', 'halt', [CompletionResultType]::ParameterValue, 'Stop offering a release to devices that have not started it')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Offer a halted release again')
            [CompletionResult]::new('promote', 'promote', [CompletionResultType]::ParameterValue, 'Move a release''s rollout to its next step (or --to a percentage) now')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show how far a release got: states, success rate, failure reasons (--watch to follow)')
            break
        }
        'fleet;help;release;create' {
            break
        }
        'fleet;help;release;list' {
            break
        }
        'fleet;help;release;show' {
            break
        }
        'fleet;help;release;update' {
            break
        }
        'fleet;help;release;halt' {
            break
        }
        'fleet;help;release;resume' {
            break
        }
        'fleet;help;release;promote' {
            break
        }
        'fleet;help;release;status' {
            break
        }
        'fleet;help;simulate' {
            break
        }
        'fleet;help;whoami' {
            break
        }
        'fleet;help;profile' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add or replace a profile')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List profiles; `*` marks the default')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show a profile (never its API key)')
            [CompletionResult]::new('use', 'use', [CompletionResultType]::ParameterValue, 'Make a profile the default')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a profile and its stored API key')
            break
        }
        'fleet;help;profile;add' {
            break
        }
        'fleet;help;profile;list' {
            break
        }
        'fleet;help;profile;show' {
            break
        }
        'fleet;help;profile;use' {
            break
        }
        'fleet;help;profile;remove' {
            break
        }
        'fleet;help;completions' {
            break
        }
        'fleet;help;server' {
            [CompletionResult]::new('api-key', 'api-key', [CompletionResultType]::ParameterValue, 'Manage API keys directly in the database, without a running service')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Copy a deployment to another database (e.g. SQLite to PostgreSQL) and verify the copy')
            break
        }
        'fleet;help;server;api-key' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an org-wide API key in the database (recovery when every admin key is lost)')
            break
        }
        'fleet;help;server;api-key;create' {
            break
        }
        'fleet;help;server;migrate' {
            break
        }
        'fleet;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
