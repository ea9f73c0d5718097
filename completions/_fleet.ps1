
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('profile', 'profile', [CompletionResultType]::ParameterValue, 'Manage connection profiles (service URL + API key)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('server', 'server', [CompletionResultType]::ParameterValue, 'Run the fleet service: the HTTP API over an embedded SQLite database')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;product' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;product;create' {
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'What the product is, for people')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'What the product is, for people')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'A `key:value` tag (repeatable)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'A `key:value` tag (repeatable)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
        'fleet;product;list' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Only products with this `key:value` tag (repeatable; all must match)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Only products with this `key:value` tag (repeatable; all must match)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N items')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
        'fleet;product;help;help' {
            break
        }
        'fleet;cohort' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fleet;cohort;create' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Product name or ID')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'What the cohort is for')
            [CompletionResult]::new('--description', '--description', [CompletionResultType]::ParameterName, 'What the cohort is for')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
        'fleet;cohort;list' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Only cohorts of this product (name or ID)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Only cohorts of this product (name or ID)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N items')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
        'fleet;cohort;help;help' {
            break
        }
        'fleet;device' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List devices, filtered by product, cohort, tags, target or quarantine')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one device')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a device''s cohort, tags, target, quarantine or description')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a device')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
        'fleet;device;list' {
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Only devices of this product (name or ID)')
            [CompletionResult]::new('--product', '--product', [CompletionResultType]::ParameterName, 'Only devices of this product (name or ID)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Only devices in this cohort (ID, or name together with --product)')
            [CompletionResult]::new('--cohort', '--cohort', [CompletionResultType]::ParameterName, 'Only devices in this cohort (ID, or name together with --product)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Only devices with this `key:value` tag (repeatable; all must match)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Only devices with this `key:value` tag (repeatable; all must match)')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Only devices with this hardware target')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N items')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--quarantined', '--quarantined', [CompletionResultType]::ParameterName, 'Only quarantined devices')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
        'fleet;device;help' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Register a device in a product')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List devices, filtered by product, cohort, tags, target or quarantine')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one device')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a device''s cohort, tags, target, quarantine or description')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a device')
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
        'fleet;device;help;help' {
            break
        }
        'fleet;profile' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--api-key-stdin', '--api-key-stdin', [CompletionResultType]::ParameterName, 'Read the API key from the first line of stdin instead of prompting')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
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
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Directory for the database [default: the platform data directory, e.g. ~/.local/share/fleet]')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use from config.toml (default: the config''s `default_profile`)')
            [CompletionResult]::new('--api-url', '--api-url', [CompletionResultType]::ParameterName, 'Base URL of the fleet service, e.g. http://127.0.0.1:4040')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key (prefer the env var or a profile: flags show up in shell history)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: `table` for people, `json`/`ndjson` for programs, `id` for xargs')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour on stderr and tables (never when NO_COLOR is set)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.toml and credentials.toml')
            [CompletionResult]::new('--no-profile', '--no-profile', [CompletionResultType]::ParameterName, 'Do not save a new admin key as profile `local`; write it to <DIR>/admin-api-key (mode 0600)')
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
        'fleet;help' {
            [CompletionResult]::new('product', 'product', [CompletionResultType]::ParameterValue, 'Manage products: the device types of your organization')
            [CompletionResult]::new('cohort', 'cohort', [CompletionResultType]::ParameterValue, 'Manage cohorts: groups of devices within a product')
            [CompletionResult]::new('device', 'device', [CompletionResultType]::ParameterValue, 'Manage devices')
            [CompletionResult]::new('profile', 'profile', [CompletionResultType]::ParameterValue, 'Manage connection profiles (service URL + API key)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('server', 'server', [CompletionResultType]::ParameterValue, 'Run the fleet service: the HTTP API over an embedded SQLite database')
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
        'fleet;help;cohort' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a cohort in a product')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List cohorts, of one product or all')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one cohort')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Rename a cohort or change its description')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a cohort')
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
        'fleet;help;device' {
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Register a device in a product')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List devices, filtered by product, cohort, tags, target or quarantine')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one device')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a device''s cohort, tags, target, quarantine or description')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a device')
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
            break
        }
        'fleet;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
