# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_fleet_global_optspecs
    string join \n profile= api-url= api-key= o/output= color= q/quiet v/verbose y/yes no-input config-dir= h/help V/version
end

function __fish_fleet_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_fleet_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_fleet_using_subcommand
    set -l cmd (__fish_fleet_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c fleet -n "__fish_fleet_needs_command" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_needs_command" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_needs_command" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_needs_command" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_needs_command" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_needs_command" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_needs_command" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_needs_command" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_needs_command" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_needs_command" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_needs_command" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_needs_command" -f -a "product" -d 'Manage products: the device types of your organization'
complete -c fleet -n "__fish_fleet_needs_command" -f -a "cohort" -d 'Manage cohorts: groups of devices within a product'
complete -c fleet -n "__fish_fleet_needs_command" -f -a "device" -d 'Manage devices'
complete -c fleet -n "__fish_fleet_needs_command" -f -a "config" -d 'Manage configurations of products, cohorts and devices'
complete -c fleet -n "__fish_fleet_needs_command" -f -a "ca" -d 'Manage the CAs whose certificates admit a product\'s devices'
complete -c fleet -n "__fish_fleet_needs_command" -f -a "api-key" -d 'Manage API keys: roles, product scopes, expiry, revocation'
complete -c fleet -n "__fish_fleet_needs_command" -f -a "event" -d 'Read the audit log: every write and refused request'
complete -c fleet -n "__fish_fleet_needs_command" -f -a "firmware" -d 'Push, list, show, pull and abandon firmware binaries'
complete -c fleet -n "__fish_fleet_needs_command" -f -a "signing-key" -d 'Manage Ed25519 keys that sign firmware'
complete -c fleet -n "__fish_fleet_needs_command" -f -a "bundle" -d 'Manage bundles: ordered sets of a product\'s binaries'
complete -c fleet -n "__fish_fleet_needs_command" -f -a "release" -d 'Manage releases: bundles rolled out to cohorts'
complete -c fleet -n "__fish_fleet_needs_command" -f -a "simulate" -d 'Run simulated devices against the device API: check-ins, updates, reports'
complete -c fleet -n "__fish_fleet_needs_command" -f -a "whoami" -d 'Show the profile, URL and API key in effect and where each came from'
complete -c fleet -n "__fish_fleet_needs_command" -f -a "profile" -d 'Manage connection profiles (service URL + API key)'
complete -c fleet -n "__fish_fleet_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c fleet -n "__fish_fleet_needs_command" -f -a "server" -d 'Run the fleet service: the HTTP API over an embedded SQLite database, or over PostgreSQL with `--database-url`'
complete -c fleet -n "__fish_fleet_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -f -a "create" -d 'Create a product'
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -f -a "list" -d 'List products'
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -f -a "show" -d 'Show one product'
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -f -a "update" -d 'Change a product\'s name, description or tags'
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -f -a "archive" -d 'Archive a product: it stays readable but accepts no new devices or cohorts'
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -f -a "unarchive" -d 'Make an archived product active again'
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -f -a "delete" -d 'Delete a product that has no devices (its cohorts go with it)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -f -a "stats" -d 'Show a product\'s statistics: devices, connection, firmware, rollouts (--watch to follow)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and not __fish_seen_subcommand_from create list show update archive unarchive delete stats help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from create" -s d -l description -d 'What the product is, for people' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from create" -s t -l tag -d 'A `key:value` tag (repeatable)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from create" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from create" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from create" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from create" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from create" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from create" -l if-not-exists -d 'If the product exists with the same description and tags (a flag not given means empty), print it and exit 0; if they differ, exit 7 naming the fields'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from create" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from list" -s t -l tag -d 'Only products with this `key:value` tag (repeatable; all must match)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from list" -l limit -d 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from list" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from list" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from list" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from list" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from list" -l archived -d 'Only archived products'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from list" -l all-states -d 'Active and archived products'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from list" -l all -d 'Print every item, following pages to the end (streams; memory stays flat)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from show" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from show" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from show" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from show" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from show" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from update" -l name -d 'New name' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from update" -s d -l description -d 'New description' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from update" -s t -l tag -d 'Replace all tags with these `key:value` tags (repeatable)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from update" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from update" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from update" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from update" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from update" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from update" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from update" -l clear-tags -d 'Remove all tags'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from update" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from update" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from update" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from update" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from update" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from archive" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from archive" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from archive" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from archive" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from archive" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from archive" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from archive" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from archive" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from archive" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from archive" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from archive" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from archive" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from unarchive" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from unarchive" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from unarchive" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from unarchive" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from unarchive" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from unarchive" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from unarchive" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from unarchive" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from unarchive" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from unarchive" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from unarchive" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from unarchive" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from delete" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from delete" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from delete" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from delete" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from delete" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from delete" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from stats" -l watch -d 'Refresh every SECS seconds (default 5) until Ctrl-C: redrawn in place on a terminal; otherwise each refresh is appended (a separator line with its time; one JSON object per line with -o json)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from stats" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from stats" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from stats" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from stats" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from stats" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from stats" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from stats" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from stats" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from stats" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from stats" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from stats" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from stats" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a product'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "list" -d 'List products'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one product'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "update" -d 'Change a product\'s name, description or tags'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "archive" -d 'Archive a product: it stays readable but accepts no new devices or cohorts'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "unarchive" -d 'Make an archived product active again'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a product that has no devices (its cohorts go with it)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "stats" -d 'Show a product\'s statistics: devices, connection, firmware, rollouts (--watch to follow)'
complete -c fleet -n "__fish_fleet_using_subcommand product; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -f -a "create" -d 'Create a cohort in a product'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -f -a "list" -d 'List cohorts, of one product or all'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -f -a "show" -d 'Show one cohort'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -f -a "update" -d 'Rename a cohort or change its description'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -f -a "delete" -d 'Delete a cohort'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -f -a "assign" -d 'Put devices into a cohort'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -f -a "unassign" -d 'Take devices out of their cohorts'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -f -a "stats" -d 'Show a cohort\'s statistics: devices, connection, firmware, its release (--watch to follow)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and not __fish_seen_subcommand_from create list show update delete assign unassign stats help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from create" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from create" -s d -l description -d 'What the cohort is for' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from create" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from create" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from create" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from create" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from create" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from create" -l if-not-exists -d 'If the cohort exists in the product with the same description (not given means empty), print it and exit 0; if it differs, exit 7 naming the field'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from create" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from list" -s P -l product -d 'Only cohorts of this product (name or ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from list" -l limit -d 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from list" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from list" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from list" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from list" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from list" -l all -d 'Print every item, following pages to the end (streams; memory stays flat)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from show" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from show" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from show" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from show" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from show" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from show" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from update" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from update" -l name -d 'New name' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from update" -s d -l description -d 'New description' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from update" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from update" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from update" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from update" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from update" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from update" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from update" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from update" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from update" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from update" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from update" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from delete" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from delete" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from delete" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from delete" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from delete" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from delete" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from delete" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -s P -l product -d 'The cohort\'s product (name or ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -l from-file -d 'Read devices from FILE (`-` for stdin): one identifier or ID per line, or NDJSON objects with an `id` or `identifier` field' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -s c -l cohort -d 'Only devices in this cohort (ID, or name within the product)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -s t -l tag -d 'Only devices with this `key:value` tag (repeatable; all must match)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -l target -d 'Only devices with this hardware target' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -l dry-run -d 'Show what would happen and change nothing'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -l no-cohort -d 'Only devices in no cohort'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from assign" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -s P -l product -d 'Only devices of this product (name or ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -l from-file -d 'Read devices from FILE (`-` for stdin): one identifier or ID per line, or NDJSON objects with an `id` or `identifier` field' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -s c -l cohort -d 'Only devices in this cohort (ID, or name within the product)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -s t -l tag -d 'Only devices with this `key:value` tag (repeatable; all must match)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -l target -d 'Only devices with this hardware target' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -l dry-run -d 'Show what would happen and change nothing'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -l no-cohort -d 'Only devices in no cohort'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from unassign" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from stats" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from stats" -l watch -d 'Refresh every SECS seconds (default 5) until Ctrl-C: redrawn in place on a terminal; otherwise each refresh is appended (a separator line with its time; one JSON object per line with -o json)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from stats" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from stats" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from stats" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from stats" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from stats" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from stats" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from stats" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from stats" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from stats" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from stats" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from stats" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from stats" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a cohort in a product'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from help" -f -a "list" -d 'List cohorts, of one product or all'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one cohort'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from help" -f -a "update" -d 'Rename a cohort or change its description'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a cohort'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from help" -f -a "assign" -d 'Put devices into a cohort'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from help" -f -a "unassign" -d 'Take devices out of their cohorts'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from help" -f -a "stats" -d 'Show a cohort\'s statistics: devices, connection, firmware, its release (--watch to follow)'
complete -c fleet -n "__fish_fleet_using_subcommand cohort; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -f -a "create" -d 'Register a device in a product'
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -f -a "list" -d 'List devices, filtered by product, cohort, tags, target, quarantine, or what their check-ins said (online, seen within, running, update state)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -f -a "show" -d 'Show one device: its settings, when it last checked in, what it runs, its update state'
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -f -a "update" -d 'Change a device\'s cohort, tags, target, quarantine or description'
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -f -a "delete" -d 'Delete a device'
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -f -a "move" -d 'Move devices to another product (they must be re-provisioned)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -f -a "import" -d 'Import devices from a CSV file'
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -f -a "cert" -d 'Register, list, revoke and issue device certificates'
complete -c fleet -n "__fish_fleet_using_subcommand device; and not __fish_seen_subcommand_from create list show update delete move import cert help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -s c -l cohort -d 'Cohort of that product (name or ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -s t -l tag -d 'A `key:value` tag (repeatable)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -l target -d 'Hardware target triple, e.g. aarch64-unknown-linux-gnu' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -s d -l description -d 'Free text for people' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -l if-not-exists -d 'If the device exists with the same product, cohort, tags, target and description (a flag not given means none), print it and exit 0; if any differ, exit 7 naming them'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -s P -l product -d 'Only devices of this product (name or ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -s c -l cohort -d 'Only devices in this cohort (ID, or name together with --product)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -s t -l tag -d 'Only devices with this `key:value` tag (repeatable; all must match)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -l target -d 'Only devices with this hardware target' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -l seen-within -d 'Only devices that checked in within this long, e.g. 30m, 1h, 2d' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -l running -d 'Only devices running this artifact at this version, e.g. app@1.4.0' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -l update-state -d 'Only devices whose latest update state is this' -r -f -a "downloading\t''
installing\t''
succeeded\t''
failed\t''
rolled_back\t''"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -l sort -d 'The order: `id` (creation order) or `last-seen` (newest check-in first, devices never seen last)' -r -f -a "id\t''
last-seen\t''"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -l limit -d 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -l quarantined -d 'Only quarantined devices'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -l online -d 'Only devices that checked in within twice the check-in interval (10 minutes by default)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -l offline -d 'Only devices that did not check in within twice the check-in interval, or never did'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -l all -d 'Print every item, following pages to the end (streams; memory stays flat)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from show" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from show" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from show" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from show" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from show" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -s c -l cohort -d 'Move into this cohort of the device\'s product (name or ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -s t -l tag -d 'Replace all tags with these `key:value` tags (repeatable)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -l add-tag -d 'Add a tag (repeatable)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -l remove-tag -d 'Remove a tag (repeatable)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -l target -d 'New hardware target triple' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -s d -l description -d 'New description' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -l no-cohort -d 'Take the device out of its cohort'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -l quarantine -d 'Stop releases from reaching the device'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -l unquarantine -d 'Let releases reach the device again'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from update" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from delete" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from delete" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from delete" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from delete" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from delete" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from delete" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -l to-product -d 'Product to move the devices to (name or ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -l to-cohort -d 'Cohort of the target product the devices join (default: none)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -s P -l product -d 'Only devices of this product (name or ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -l from-file -d 'Read devices from FILE (`-` for stdin): one identifier or ID per line, or NDJSON objects with an `id` or `identifier` field' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -s c -l cohort -d 'Only devices in this cohort (ID, or name within the product)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -s t -l tag -d 'Only devices with this `key:value` tag (repeatable; all must match)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -l target -d 'Only devices with this hardware target' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -l dry-run -d 'Show what would happen and change nothing'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -l no-cohort -d 'Only devices in no cohort'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from move" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from import" -s P -l product -d 'Product to import into (name or ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from import" -s c -l cohort -d 'Cohort of that product for rows that name none' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from import" -l chunk-rows -d 'Send at most N rows per request, each chunk imported in its own transaction (not all or nothing; see below)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from import" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from import" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from import" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from import" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from import" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from import" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from import" -l update -d 'Overwrite existing devices of the product whose values differ from the file\'s'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from import" -l dry-run -d 'Check the file and show what would happen; change nothing'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from import" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from import" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from import" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from cert" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from cert" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from cert" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from cert" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from cert" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from cert" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from cert" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from cert" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from cert" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from cert" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from cert" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from cert" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from cert" -f -a "add" -d 'Register a certificate for a device'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from cert" -f -a "list" -d 'List a device\'s certificates'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from cert" -f -a "revoke" -d 'Revoke a device\'s certificate'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from cert" -f -a "issue" -d 'Issue a device certificate under a local CA directory'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from cert" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "create" -d 'Register a device in a product'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "list" -d 'List devices, filtered by product, cohort, tags, target, quarantine, or what their check-ins said (online, seen within, running, update state)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one device: its settings, when it last checked in, what it runs, its update state'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "update" -d 'Change a device\'s cohort, tags, target, quarantine or description'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a device'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "move" -d 'Move devices to another product (they must be re-provisioned)'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "import" -d 'Import devices from a CSV file'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "cert" -d 'Register, list, revoke and issue device certificates'
complete -c fleet -n "__fish_fleet_using_subcommand device; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -f -a "show" -d 'Show a configuration document (or with --effective, what devices get)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -f -a "set" -d 'Set keys by dotted path (values are JSON, else text)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -f -a "unset" -d 'Remove keys by dotted path (an override then inherits them again)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -f -a "apply" -d 'Replace a whole document from a JSON file or stdin'
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -f -a "edit" -d 'Edit a document in $EDITOR, checked before it is sent'
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -f -a "history" -d 'List a document\'s revisions, newest first'
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -f -a "diff" -d 'Show what changed between two revisions'
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -f -a "override" -d 'Set or remove keys in many devices\' overrides at once (a bulk operation)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -f -a "rollback" -d 'Make an earlier revision\'s document current again, as a new revision'
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -f -a "schema" -d 'Show, set or remove the product\'s JSON Schema'
complete -c fleet -n "__fish_fleet_using_subcommand config; and not __fish_seen_subcommand_from show set unset apply edit history diff override rollback schema help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from show" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from show" -l cohort -d 'A cohort\'s override (name or ID) instead of the product\'s document' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from show" -l device -d 'A device\'s override (identifier or ID) instead of the product\'s document' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from show" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from show" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from show" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from show" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from show" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from show" -l effective -d 'Merge in the levels above (what a device of this level receives)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from set" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from set" -l cohort -d 'A cohort\'s override (name or ID) instead of the product\'s document' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from set" -l device -d 'A device\'s override (identifier or ID) instead of the product\'s document' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from set" -s m -l message -d 'Why, kept with the revision (shown by `fleet config history`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from set" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from set" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from set" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from set" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from set" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from set" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from set" -l secret -d 'Mark these keys secret: stored and sent to devices, shown to people as "***"'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from set" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from set" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from set" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from unset" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from unset" -l cohort -d 'A cohort\'s override (name or ID) instead of the product\'s document' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from unset" -l device -d 'A device\'s override (identifier or ID) instead of the product\'s document' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from unset" -s m -l message -d 'Why, kept with the revision (shown by `fleet config history`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from unset" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from unset" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from unset" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from unset" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from unset" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from unset" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from unset" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from unset" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from unset" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from unset" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from unset" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from unset" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -l cohort -d 'A cohort\'s override (name or ID) instead of the product\'s document' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -l device -d 'A device\'s override (identifier or ID) instead of the product\'s document' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -s f -l file -d 'A JSON object; `-` reads stdin' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -l secret -d 'Mark these dotted key paths secret (repeatable)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -s m -l message -d 'Why, kept with the revision (shown by `fleet config history`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from apply" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from edit" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from edit" -l cohort -d 'A cohort\'s override (name or ID) instead of the product\'s document' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from edit" -l device -d 'A device\'s override (identifier or ID) instead of the product\'s document' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from edit" -s m -l message -d 'Why, kept with the revision (shown by `fleet config history`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from edit" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from edit" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from edit" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from edit" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from edit" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from edit" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from edit" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from edit" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from edit" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from edit" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from edit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from edit" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from history" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from history" -l cohort -d 'A cohort\'s override (name or ID) instead of the product\'s document' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from history" -l device -d 'A device\'s override (identifier or ID) instead of the product\'s document' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from history" -l limit -d 'At most N revisions (1–1000)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from history" -l before -d 'Only revisions older than this one' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from history" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from history" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from history" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from history" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from history" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from history" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from history" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from history" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from history" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from history" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from history" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from diff" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from diff" -l cohort -d 'A cohort\'s override (name or ID) instead of the product\'s document' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from diff" -l device -d 'A device\'s override (identifier or ID) instead of the product\'s document' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from diff" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from diff" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from diff" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from diff" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from diff" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from diff" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from diff" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from diff" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from diff" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from diff" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from diff" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -s P -l product -d 'The devices\' product (name or ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -l set -d 'Set `key.path=value` in each override (repeatable)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -l unset -d 'Remove KEY from each override, so the device inherits it again (repeatable)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -s m -l message -d 'Why, kept with the revision (shown by `fleet config history`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -l from-file -d 'Read devices from FILE (`-` for stdin): one identifier or ID per line, or NDJSON objects with an `id` or `identifier` field' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -s c -l cohort -d 'Only devices in this cohort (ID, or name within the product)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -s t -l tag -d 'Only devices with this `key:value` tag (repeatable; all must match)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -l target -d 'Only devices with this hardware target' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -l dry-run -d 'Show what would happen and change nothing'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -l no-cohort -d 'Only devices in no cohort'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from override" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from rollback" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from rollback" -l cohort -d 'A cohort\'s override (name or ID) instead of the product\'s document' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from rollback" -l device -d 'A device\'s override (identifier or ID) instead of the product\'s document' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from rollback" -s m -l message -d 'Why, kept with the revision (shown by `fleet config history`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from rollback" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from rollback" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from rollback" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from rollback" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from rollback" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from rollback" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from rollback" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from rollback" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from rollback" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from rollback" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from rollback" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from rollback" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from schema" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from schema" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from schema" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from schema" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from schema" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from schema" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from schema" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from schema" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from schema" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from schema" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from schema" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from schema" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from schema" -f -a "set" -d 'Set the JSON Schema every effective configuration of the product must satisfy'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from schema" -f -a "show" -d 'Show the product\'s JSON Schema'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from schema" -f -a "delete" -d 'Remove the product\'s JSON Schema (any JSON object is accepted again)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from schema" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show a configuration document (or with --effective, what devices get)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "set" -d 'Set keys by dotted path (values are JSON, else text)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "unset" -d 'Remove keys by dotted path (an override then inherits them again)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "apply" -d 'Replace a whole document from a JSON file or stdin'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "edit" -d 'Edit a document in $EDITOR, checked before it is sent'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "history" -d 'List a document\'s revisions, newest first'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "diff" -d 'Show what changed between two revisions'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "override" -d 'Set or remove keys in many devices\' overrides at once (a bulk operation)'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "rollback" -d 'Make an earlier revision\'s document current again, as a new revision'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "schema" -d 'Show, set or remove the product\'s JSON Schema'
complete -c fleet -n "__fish_fleet_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -f -a "add" -d 'Register a CA certificate for a product\'s devices'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -f -a "list" -d 'List certificate authorities, of one product or all'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -f -a "show" -d 'Show one certificate authority'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -f -a "update" -d 'Enable or disable a certificate authority or change its JITP settings'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -f -a "delete" -d 'Delete a certificate authority'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -f -a "generate" -d 'Make a new CA (certificate and key) in a local directory'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and not __fish_seen_subcommand_from add list show update delete generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -l cert -d 'The CA certificate (PEM file)' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -l jitp-cohort -d 'Cohort (of the same product) new devices join' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -l jitp-tag -d 'A `key:value` tag new devices get (repeatable)' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -l jitp-target -d 'Hardware target triple new devices get' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -l jitp-description -d 'Description new devices get' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -l disabled -d 'Register it disabled: it admits no device until `fleet ca update --enable`'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -l jitp -d 'Provision unknown devices with a certificate under this CA just in time'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from list" -s P -l product -d 'Only certificate authorities of this product (name or ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from list" -l limit -d 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from list" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from list" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from list" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from list" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from list" -l all -d 'Print every item, following pages to the end (streams; memory stays flat)'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from show" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from show" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from show" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from show" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from show" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from show" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -l jitp -d 'Turn just-in-time provisioning on or off' -r -f -a "on\t''
off\t''"
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -l jitp-cohort -d 'Cohort (of the same product) new devices join' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -l jitp-tag -d 'A `key:value` tag new devices get (repeatable; replaces the whole set)' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -l jitp-target -d 'Hardware target triple new devices get' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -l jitp-description -d 'Description new devices get' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -l enable -d 'Admit devices with certificates under this CA again'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -l disable -d 'Admit no device with a certificate under this CA'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -l no-jitp-cohort -d 'New devices join no cohort'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -l no-jitp-tags -d 'New devices get no tags'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -l no-jitp-target -d 'New devices get no target'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from update" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from delete" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from delete" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from delete" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from delete" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from delete" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from delete" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from delete" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from generate" -l out -d 'Directory to write ca.pem and ca.key to (created if missing; existing files are refused)' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from generate" -l days -d 'How long the CA certificate is valid, in days' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from generate" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from generate" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from generate" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from generate" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from generate" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from generate" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from generate" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from generate" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from generate" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from generate" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from generate" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "add" -d 'Register a CA certificate for a product\'s devices'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "list" -d 'List certificate authorities, of one product or all'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one certificate authority'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "update" -d 'Enable or disable a certificate authority or change its JITP settings'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a certificate authority'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "generate" -d 'Make a new CA (certificate and key) in a local directory'
complete -c fleet -n "__fish_fleet_using_subcommand ca; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and not __fish_seen_subcommand_from create list show revoke help" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and not __fish_seen_subcommand_from create list show revoke help" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and not __fish_seen_subcommand_from create list show revoke help" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and not __fish_seen_subcommand_from create list show revoke help" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and not __fish_seen_subcommand_from create list show revoke help" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and not __fish_seen_subcommand_from create list show revoke help" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and not __fish_seen_subcommand_from create list show revoke help" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and not __fish_seen_subcommand_from create list show revoke help" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and not __fish_seen_subcommand_from create list show revoke help" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and not __fish_seen_subcommand_from create list show revoke help" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and not __fish_seen_subcommand_from create list show revoke help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and not __fish_seen_subcommand_from create list show revoke help" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and not __fish_seen_subcommand_from create list show revoke help" -f -a "create" -d 'Create an API key; its secret is printed once'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and not __fish_seen_subcommand_from create list show revoke help" -f -a "list" -d 'List API keys (never their secrets)'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and not __fish_seen_subcommand_from create list show revoke help" -f -a "show" -d 'Show one API key'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and not __fish_seen_subcommand_from create list show revoke help" -f -a "revoke" -d 'Revoke an API key: it stops working with the next request'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and not __fish_seen_subcommand_from create list show revoke help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from create" -l role -d 'What the key may do: `read`, `write` (fleet resources) or `admin` (also keys)' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from create" -l product -d 'Limit the key to this product (name or ID; repeatable). Default: every product' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from create" -l expires-in -d 'Let the key expire after this long, e.g. 90d, 12h' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from create" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from create" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from create" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from create" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from create" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from create" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from list" -l limit -d 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from list" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from list" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from list" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from list" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from list" -l revoked -d 'Include revoked keys'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from list" -l all -d 'Print every item, following pages to the end (streams; memory stays flat)'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from show" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from show" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from show" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from show" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from show" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from revoke" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from revoke" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from revoke" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from revoke" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from revoke" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from revoke" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from revoke" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from revoke" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from revoke" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from revoke" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from revoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from revoke" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create an API key; its secret is printed once'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from help" -f -a "list" -d 'List API keys (never their secrets)'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one API key'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from help" -f -a "revoke" -d 'Revoke an API key: it stops working with the next request'
complete -c fleet -n "__fish_fleet_using_subcommand api-key; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand event; and not __fish_seen_subcommand_from list help" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand event; and not __fish_seen_subcommand_from list help" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand event; and not __fish_seen_subcommand_from list help" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand event; and not __fish_seen_subcommand_from list help" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand event; and not __fish_seen_subcommand_from list help" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand event; and not __fish_seen_subcommand_from list help" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand event; and not __fish_seen_subcommand_from list help" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand event; and not __fish_seen_subcommand_from list help" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand event; and not __fish_seen_subcommand_from list help" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand event; and not __fish_seen_subcommand_from list help" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand event; and not __fish_seen_subcommand_from list help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand event; and not __fish_seen_subcommand_from list help" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand event; and not __fish_seen_subcommand_from list help" -f -a "list" -d 'List audit events, oldest first'
complete -c fleet -n "__fish_fleet_using_subcommand event; and not __fish_seen_subcommand_from list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -l product -d 'Only events of this product (name or ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -l resource -d 'Only events about this resource (its ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -l action -d 'Only events of this action, e.g. `product.created`, or a prefix such as `device.*`' -r
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -l key -d 'Only events by this API key (ID or name)' -r
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -l since -d 'Only events in the last DURATION, e.g. 1h, 7d' -r
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -l limit -d 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]' -r
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -l all -d 'Print every item, following pages to the end (streams; memory stays flat)'
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from help" -f -a "list" -d 'List audit events, oldest first'
complete -c fleet -n "__fish_fleet_using_subcommand event; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -f -a "push" -d 'Upload a firmware file (resumable, verified), optionally sign and release it'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -f -a "list" -d 'List binaries'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -f -a "show" -d 'Show one binary'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -f -a "pull" -d 'Download a ready binary to a file, verifying its SHA-256'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -f -a "policy" -d 'Show or change a product\'s firmware policy (signed firmware required?)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -f -a "abandon" -d 'Give up an unfinished upload: delete the binary and the parts it received'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and not __fish_seen_subcommand_from push list show pull policy abandon help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -s a -l artifact -d 'Artifact (firmware type, e.g. `app`); created when missing' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -l version -d 'Version string, e.g. 1.4.0; created when missing' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -s t -l target -d 'Hardware target, e.g. armv7-unknown-linux-gnueabihf' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -l sign-key -d 'Sign with this Ed25519 private key (PKCS#8 PEM); repeatable' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -l release-to -d 'Release the binary to this cohort of the product (as a one-binary bundle); needs --rollout, e.g. `--release-to beta --rollout 10`' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -l rollout -d 'Share of the cohort\'s devices to roll out to (0–100), required with --release-to: start small (e.g. 10) and raise it later with `fleet release update ID --rollout 50`' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -s d -l description -d 'Description of the version, when it is created' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -l parallel -d 'Parts uploaded at once; memory use is about this many parts' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from push" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -s P -l product -d 'Only binaries of this product (name or ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -s a -l artifact -d 'Only this artifact (name with --product, or ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -l version -d 'Only this version' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -s t -l target -d 'Only this target' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -l limit -d 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -l ready -d 'Only ready binaries (not unfinished uploads)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -l all -d 'Print every item, following pages to the end (streams; memory stays flat)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from show" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from show" -s a -l artifact -d 'Artifact name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from show" -l version -d 'Version string' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from show" -s t -l target -d 'Hardware target' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from show" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from show" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from show" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from show" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from show" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from pull" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from pull" -s a -l artifact -d 'Artifact name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from pull" -l version -d 'Version string' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from pull" -s t -l target -d 'Hardware target' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from pull" -l out -d 'Where to write the file; an existing file is refused unless --force' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from pull" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from pull" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from pull" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from pull" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from pull" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from pull" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from pull" -l force -d 'Replace FILE if it exists (only once the download verified)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from pull" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from pull" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from pull" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from pull" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from pull" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from policy" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from policy" -l require-signed -d 'Require every binary of a released bundle to be signed' -r -f -a "true\t''
false\t''"
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from policy" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from policy" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from policy" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from policy" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from policy" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from policy" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from policy" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from policy" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from policy" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from policy" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from policy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from policy" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from abandon" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from abandon" -s a -l artifact -d 'Artifact name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from abandon" -l version -d 'Version string' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from abandon" -s t -l target -d 'Hardware target' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from abandon" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from abandon" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from abandon" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from abandon" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from abandon" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from abandon" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from abandon" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from abandon" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from abandon" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from abandon" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from abandon" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from help" -f -a "push" -d 'Upload a firmware file (resumable, verified), optionally sign and release it'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from help" -f -a "list" -d 'List binaries'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one binary'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from help" -f -a "pull" -d 'Download a ready binary to a file, verifying its SHA-256'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from help" -f -a "policy" -d 'Show or change a product\'s firmware policy (signed firmware required?)'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from help" -f -a "abandon" -d 'Give up an unfinished upload: delete the binary and the parts it received'
complete -c fleet -n "__fish_fleet_using_subcommand firmware; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and not __fish_seen_subcommand_from generate register list delete help" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and not __fish_seen_subcommand_from generate register list delete help" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and not __fish_seen_subcommand_from generate register list delete help" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and not __fish_seen_subcommand_from generate register list delete help" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and not __fish_seen_subcommand_from generate register list delete help" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and not __fish_seen_subcommand_from generate register list delete help" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and not __fish_seen_subcommand_from generate register list delete help" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and not __fish_seen_subcommand_from generate register list delete help" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and not __fish_seen_subcommand_from generate register list delete help" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and not __fish_seen_subcommand_from generate register list delete help" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and not __fish_seen_subcommand_from generate register list delete help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and not __fish_seen_subcommand_from generate register list delete help" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and not __fish_seen_subcommand_from generate register list delete help" -f -a "generate" -d 'Make a new key pair: private key to a file (0600), public key registered'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and not __fish_seen_subcommand_from generate register list delete help" -f -a "register" -d 'Register an existing public key (or the public half of a private key file)'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and not __fish_seen_subcommand_from generate register list delete help" -f -a "list" -d 'List registered keys'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and not __fish_seen_subcommand_from generate register list delete help" -f -a "delete" -d 'Delete a registered key (its signatures go too)'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and not __fish_seen_subcommand_from generate register list delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from generate" -l out -d 'Where to write the private key; must not exist' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from generate" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from generate" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from generate" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from generate" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from generate" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from generate" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from generate" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from generate" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from generate" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from generate" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from generate" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from register" -s k -l key -d 'File holding the key' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from register" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from register" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from register" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from register" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from register" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from register" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from register" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from register" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from register" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from register" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from register" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from register" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from list" -l limit -d 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]' -r
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from list" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from list" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from list" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from list" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from list" -l all -d 'Print every item, following pages to the end (streams; memory stays flat)'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from delete" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from delete" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from delete" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from delete" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from delete" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from delete" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from help" -f -a "generate" -d 'Make a new key pair: private key to a file (0600), public key registered'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from help" -f -a "register" -d 'Register an existing public key (or the public half of a private key file)'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from help" -f -a "list" -d 'List registered keys'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a registered key (its signatures go too)'
complete -c fleet -n "__fish_fleet_using_subcommand signing-key; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and not __fish_seen_subcommand_from create list show help" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and not __fish_seen_subcommand_from create list show help" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and not __fish_seen_subcommand_from create list show help" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and not __fish_seen_subcommand_from create list show help" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and not __fish_seen_subcommand_from create list show help" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and not __fish_seen_subcommand_from create list show help" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and not __fish_seen_subcommand_from create list show help" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and not __fish_seen_subcommand_from create list show help" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and not __fish_seen_subcommand_from create list show help" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and not __fish_seen_subcommand_from create list show help" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and not __fish_seen_subcommand_from create list show help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and not __fish_seen_subcommand_from create list show help" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and not __fish_seen_subcommand_from create list show help" -f -a "create" -d 'Create a bundle from ready binaries of one product'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and not __fish_seen_subcommand_from create list show help" -f -a "list" -d 'List a product\'s bundles'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and not __fish_seen_subcommand_from create list show help" -f -a "show" -d 'Show one bundle'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and not __fish_seen_subcommand_from create list show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from create" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from create" -s b -l binary -d 'Binary ID, in install order; repeatable (`fleet firmware list -o id` prints them)' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from create" -s d -l description -d 'What the bundle is for' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from create" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from create" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from create" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from create" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from create" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from create" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from list" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from list" -l limit -d 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from list" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from list" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from list" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from list" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from list" -l all -d 'Print every item, following pages to the end (streams; memory stays flat)'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from show" -s P -l product -d 'Product name or ID; not needed with a bundle ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from show" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from show" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from show" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from show" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from show" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a bundle from ready binaries of one product'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from help" -f -a "list" -d 'List a product\'s bundles'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one bundle'
complete -c fleet -n "__fish_fleet_using_subcommand bundle; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -f -a "create" -d 'Release a bundle to a cohort'
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -f -a "list" -d 'List a product\'s releases (a cohort\'s history with --cohort)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -f -a "show" -d 'Show one release'
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -f -a "update" -d 'Change a release\'s rollout, schedule, guard or whether it is required'
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -f -a "halt" -d 'Stop offering a release to devices that have not started it'
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -f -a "resume" -d 'Offer a halted release again'
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -f -a "promote" -d 'Move a release\'s rollout to its next step (or --to a percentage) now'
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -f -a "status" -d 'Show how far a release got: states, success rate, failure reasons (--watch to follow)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and not __fish_seen_subcommand_from create list show update halt resume promote status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -s c -l cohort -d 'Cohort name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -s b -l bundle -d 'Bundle name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -l rollout -d 'Share of the cohort\'s devices to roll out to [default: 100]' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -l schedule -d 'Steps the rollout takes by itself, e.g. 1%,10%@1h,50%@6h,100%@24h: the first applies now, each later one when its wait (from the previous step) has passed and the release is not halted' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -l halt-on-failure-rate -d 'Halt the release when more than this share of the devices that finished it failed' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -l min-reports -d 'Devices that must have finished before the guard judges [default: 20]' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -l required -d 'Devices must install it'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from list" -s P -l product -d 'Product name or ID' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from list" -s c -l cohort -d 'Only this cohort\'s releases (name or ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from list" -l limit -d 'Print at most N items [default: 100 in a table; json, ndjson and id print every item]' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from list" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from list" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from list" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from list" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from list" -l all -d 'Print every item, following pages to the end (streams; memory stays flat)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from show" -s P -l product -d 'Product name or ID (optional: the release is found by its ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from show" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from show" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from show" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from show" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from show" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -s P -l product -d 'Product name or ID (optional: the release is found by its ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -l rollout -d 'New rollout percentage (the release leaves its schedule)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -l required -d 'Whether devices must install it' -r -f -a "true\t''
false\t''"
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -l schedule -d 'Steps the rollout takes by itself, e.g. 1%,10%@1h,50%@6h,100%@24h: the first applies now, each later one when its wait (from the previous step) has passed and the release is not halted' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -l halt-on-failure-rate -d 'Halt the release when more than this share of the devices that finished it failed' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -l min-reports -d 'Devices that must have finished before the guard judges [default: 20]' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from update" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from halt" -s P -l product -d 'Product name or ID (optional: the release is found by its ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from halt" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from halt" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from halt" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from halt" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from halt" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from halt" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from halt" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from halt" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from halt" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from halt" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from halt" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from halt" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from resume" -s P -l product -d 'Product name or ID (optional: the release is found by its ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from resume" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from resume" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from resume" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from resume" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from resume" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from resume" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from resume" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from resume" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from resume" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from resume" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from resume" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from promote" -s P -l product -d 'Product name or ID (optional: the release is found by its ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from promote" -l to -d 'Go to this percentage instead of the next step' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from promote" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from promote" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from promote" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from promote" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from promote" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from promote" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from promote" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from promote" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from promote" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from promote" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from promote" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from promote" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -s P -l product -d 'Product name or ID (optional: the release is found by its ID)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -l watch -d 'Refresh every SECS seconds (default 5) until Ctrl-C: redrawn in place on a terminal; otherwise each refresh is appended (a separator line with its time; one JSON object per line with -o json)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -l until-rollout -d 'The rollout percentage to wait for' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -l success-rate -d 'Once the rollout is reached, at least this share of the devices that finished must have succeeded' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -l timeout -d 'Give up after this long' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -l poll -d 'How often to look' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -l wait -d 'Block until the release reaches the bar (exit 0), is halted or misses the bar (exit 9), or --timeout passes (exit 3)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "create" -d 'Release a bundle to a cohort'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "list" -d 'List a product\'s releases (a cohort\'s history with --cohort)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one release'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "update" -d 'Change a release\'s rollout, schedule, guard or whether it is required'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "halt" -d 'Stop offering a release to devices that have not started it'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Offer a halted release again'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "promote" -d 'Move a release\'s rollout to its next step (or --to a percentage) now'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show how far a release got: states, success rate, failure reasons (--watch to follow)'
complete -c fleet -n "__fish_fleet_using_subcommand release; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l device-url -d 'The device API\'s URL (`fleet server --device-listen`), e.g. https://127.0.0.1:8443' -r
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l count -d 'Number of devices [default with --certs: every pair in the directory]' -r
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l ca -d 'Issue each device a certificate under the CA in DIR (`fleet ca generate`); identifiers sim-0000, sim-0001, …, provisioned by JITP on their first check-in' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l first -d 'With --ca, the number of the first device: identifiers start at sim-N. A device\'s number alone makes its identifier (at least four digits: sim-0042, sim-10000), so runs with --first 0, 10000, 20000 … and --count 10000 make distinct devices' -r
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l certs -d 'Use existing device certificates: <identifier>.pem and <identifier>.key pairs in DIR' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l server-fingerprint -d 'Trust the server whose certificate has this SHA-256 fingerprint (`fleet server` prints it)' -r
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l server-ca -d 'Trust server certificates issued by the CA(s) in this PEM file' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l interval -d 'Time between a device\'s check-ins (jittered ±10%; the first falls anywhere within one)' -r
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l duration -d 'How long the run lasts at most (in the load mode: each phase)' -r
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l fail-rate -d 'Share of installs that fail, from 0 to 1 (the same devices for the same --seed)' -r
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l seed -d 'Seed of every random choice (jitter, failing devices): the same seed, the same run' -r
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l target -d 'Hardware target the devices report, e.g. armv7-unknown-linux-gnueabihf' -r
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l running -d 'What each device runs at start, as ARTIFACT@VERSION (repeat for more artifacts)' -r
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l concurrency -d 'Devices connecting at once (TLS handshake and first check-in, where JITP happens)' -r
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l insecure -d 'Do not check the server\'s certificate at all (development only; a warning says so)'
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l until-settled -d 'Stop as soon as every device reported a final state or has nothing offered (--duration still bounds the run)'
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l check-ins-only -d 'Load mode: after every device connected, check in back to back for --duration (no interval, no updates taken); measures check-ins/s and latency'
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l ping -d 'Load mode: authenticated no-op requests back to back for --duration, over the same connections (after the check-ins, with --check-ins-only): the baseline'
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand simulate" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand whoami" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand whoami" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand whoami" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand whoami" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand whoami" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand whoami" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand whoami" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand whoami" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand whoami" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand whoami" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand whoami" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand whoami" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -f -a "add" -d 'Add or replace a profile'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -f -a "list" -d 'List profiles; `*` marks the default'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -f -a "show" -d 'Show a profile (never its API key)'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -f -a "use" -d 'Make a profile the default'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -f -a "remove" -d 'Remove a profile and its stored API key'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and not __fish_seen_subcommand_from add list show use remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from add" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from add" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from add" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from add" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from add" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from add" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from add" -l api-key-stdin -d 'Read the API key from the first line of stdin instead of prompting'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from add" -l force -d 'Replace the profile if it exists, without asking'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from add" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from add" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from list" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from list" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from list" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from list" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from show" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from show" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from show" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from show" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from show" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from show" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from show" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from show" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from use" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from use" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from use" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from use" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from use" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from use" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from use" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from use" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from use" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from use" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from use" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from use" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from remove" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from remove" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from remove" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from remove" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from remove" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from remove" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from remove" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from remove" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add or replace a profile'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "list" -d 'List profiles; `*` marks the default'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show a profile (never its API key)'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "use" -d 'Make a profile the default'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a profile and its stored API key'
complete -c fleet -n "__fish_fleet_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand completions" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand completions" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand completions" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand completions" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand completions" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand completions" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand completions" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand completions" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand completions" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand completions" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand completions" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l listen -d 'Address and port to listen on' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l data-dir -d 'Directory for the database and the local blob store [default: the platform data directory, e.g. ~/.local/share/fleet]' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l database-url -d 'PostgreSQL database for the service\'s state, e.g. postgres://fleet:PASSWORD@db.internal:5432/fleet; replicas share one [default: SQLite, fleet.db in the data directory]' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l auth-failures-per-minute -d 'Invalid API keys one client address may present per minute; after that its invalid keys get 429 until the minute is over (valid keys keep working)' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l upload-expiry -d 'Abandon an unfinished firmware upload after it saw no activity for this long (its parts are deleted), e.g. 24h, 90m; the same sweep deletes orphaned part files' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l max-connections -d 'Connections served at once; when all are taken, the longest-idle one is closed to make room [default: 10000, lowered to fit the open-file limit]' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l header-timeout -d 'Time a client has to send a complete request head (request line and headers), counted from the connection opening or the previous response; then the connection is closed' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l body-timeout -d 'Time a request body may go without any data arriving; then the request gets 408' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l idle-timeout -d 'Time a connection may sit with nothing read or written while no request is being handled (idle keep-alive, a client that stopped reading); then it is closed' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l trusted-proxy -d 'A reverse proxy (CIDR range or address) whose X-Forwarded-For names the client, for brute-force protection; repeatable. From other peers the header is ignored' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l device-listen -d 'Address and port of the device API (mutual TLS: devices present X.509 client certificates); without it the service has no device listener' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l device-tls-cert -d 'The device API\'s server certificate (PEM, chain after it) [default: a self-signed one generated into the data directory on first start, device-tls.pem]' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l device-tls-key -d 'The private key of --device-tls-cert (PEM)' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l check-in-interval -d 'How often devices are told to check in (each check-in\'s answer says so), 10s to 1d; a device counts as online while its last check-in is at most 2 intervals old' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l device-keep-alive -d 'How long a device\'s connection stays open waiting for its next request, 10s to 1d. Devices have proven who they are (mutual TLS) before this applies, so it replaces --header-timeout and --idle-timeout there; --max-connections still bounds how many are kept [default: the check-in interval + 1m, so a device checking in on time reuses its connection instead of a full TLS handshake]' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l device-downloads -d 'How devices download offered firmware: through the device API, or (with an S3 blob store) from a short-lived presigned URL of the bucket, so the bytes do not pass through the service; binaries copied from a local blob store by `fleet server migrate` are kept as several part objects and still download through the device API' -r -f -a "proxy\t'Devices download through the device API, which streams from the blob store'
presigned\t'Devices download from presigned URLs of the S3 bucket'"
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l presigned-url-ttl -d 'How long a presigned download URL works, 1m to 24h (with --device-downloads presigned); a device that starts later checks in again for a fresh one' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l blob-store -d 'Keep firmware binaries in an S3-compatible bucket instead of <DIR>/blobs, e.g. s3://fleet-firmware/prod; every replica of one deployment uses the same bucket' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l s3-endpoint -d 'S3-compatible server instead of AWS, e.g. https://minio.example.net:9000 (plain http only to 127.0.0.1, for test servers)' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l s3-region -d 'Region of the bucket [default: $AWS_DEFAULT_REGION, else us-east-1]' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l s3-access-key-id -d 'Access key ID of the bucket\'s credentials' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l s3-secret-access-key -d 'Secret access key (prefer the variable: a flag shows in the process list)' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l s3-session-token -d 'Session token of temporary credentials' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l no-profile -d 'Do not save a new admin key as a profile; write it to <DIR>/admin-api-key (mode 0600)'
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l s3-path-style -d 'Path-style requests (ENDPOINT/BUCKET/KEY), as MinIO, moto and most self-hosted servers want; without it, virtual-hosted style (BUCKET.ENDPOINT/KEY)'
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -f -a "api-key" -d 'Manage API keys directly in the database, without a running service'
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -f -a "migrate" -d 'Copy a deployment to another database (e.g. SQLite to PostgreSQL) and verify the copy'
complete -c fleet -n "__fish_fleet_using_subcommand server; and not __fish_seen_subcommand_from api-key migrate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from api-key" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from api-key" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from api-key" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from api-key" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from api-key" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from api-key" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from api-key" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from api-key" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from api-key" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from api-key" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from api-key" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from api-key" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from api-key" -f -a "create" -d 'Create an org-wide API key in the database (recovery when every admin key is lost)'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from api-key" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l from -d 'The deployment to copy: `sqlite:DIR` (a data directory, or the fleet.db in it) or a postgres:// URL' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l to -d 'Where to copy it: a postgres:// URL, or `sqlite:DIR` (a data directory, created when missing)' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l from-data-dir -d 'With a PostgreSQL --from: the data directory whose blobs/ holds its firmware [default: the platform data directory, e.g. ~/.local/share/fleet]' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l to-data-dir -d 'With a PostgreSQL --to: the data directory the new deployment runs with; the firmware blobs are copied into its blobs/ [default: the source\'s data directory, whose blobs stay where they are]' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l blob-store -d 'Keep firmware binaries in an S3-compatible bucket instead of <DIR>/blobs, e.g. s3://fleet-firmware/prod; every replica of one deployment uses the same bucket' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l s3-endpoint -d 'S3-compatible server instead of AWS, e.g. https://minio.example.net:9000 (plain http only to 127.0.0.1, for test servers)' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l s3-region -d 'Region of the bucket [default: $AWS_DEFAULT_REGION, else us-east-1]' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l s3-access-key-id -d 'Access key ID of the bucket\'s credentials' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l s3-secret-access-key -d 'Secret access key (prefer the variable: a flag shows in the process list)' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l s3-session-token -d 'Session token of temporary credentials' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l profile -d 'Profile to use from config.toml (default: the config\'s `default_profile`)' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l api-url -d 'Base URL of the fleet service, e.g. http://127.0.0.1:4040' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l api-key -d 'API key (prefer the env var or a profile: flags show up in shell history)' -r
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -s o -l output -d 'Output format: `table` for people (`wide`: every column, uncut), `json`/`ndjson` for programs, `id` for xargs' -r -f -a "table\t'Aligned columns for people, cut to fit the terminal'
wide\t'Every column (IDs too), never cut: `table` for a wide screen or a file'
json\t'JSON: the API object, or an array for lists'
ndjson\t'One JSON object per line'
id\t'One ID per line'"
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l color -d 'When to use colour on stderr and tables (never when NO_COLOR is set)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l config-dir -d 'Directory holding config.toml and credentials.toml' -r -F
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l s3-path-style -d 'Path-style requests (ENDPOINT/BUCKET/KEY), as MinIO, moto and most self-hosted servers want; without it, virtual-hosted style (BUCKET.ENDPOINT/KEY)'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l replace -d 'Delete what the target database holds (a deployment started there by mistake) instead of refusing to copy into it'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -s q -l quiet -d 'Print only data and errors: no status lines, hints or progress'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -s v -l verbose -d 'Print more about what is happening (requests, timings)'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -s y -l yes -d 'Answer yes to confirmations (needed for destructive commands without a terminal)'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -l no-input -d 'Never prompt; fail instead when input would be needed'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from migrate" -s V -l version -d 'Print version'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "api-key" -d 'Manage API keys directly in the database, without a running service'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "migrate" -d 'Copy a deployment to another database (e.g. SQLite to PostgreSQL) and verify the copy'
complete -c fleet -n "__fish_fleet_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and not __fish_seen_subcommand_from product cohort device config ca api-key event firmware signing-key bundle release simulate whoami profile completions server help" -f -a "product" -d 'Manage products: the device types of your organization'
complete -c fleet -n "__fish_fleet_using_subcommand help; and not __fish_seen_subcommand_from product cohort device config ca api-key event firmware signing-key bundle release simulate whoami profile completions server help" -f -a "cohort" -d 'Manage cohorts: groups of devices within a product'
complete -c fleet -n "__fish_fleet_using_subcommand help; and not __fish_seen_subcommand_from product cohort device config ca api-key event firmware signing-key bundle release simulate whoami profile completions server help" -f -a "device" -d 'Manage devices'
complete -c fleet -n "__fish_fleet_using_subcommand help; and not __fish_seen_subcommand_from product cohort device config ca api-key event firmware signing-key bundle release simulate whoami profile completions server help" -f -a "config" -d 'Manage configurations of products, cohorts and devices'
complete -c fleet -n "__fish_fleet_using_subcommand help; and not __fish_seen_subcommand_from product cohort device config ca api-key event firmware signing-key bundle release simulate whoami profile completions server help" -f -a "ca" -d 'Manage the CAs whose certificates admit a product\'s devices'
complete -c fleet -n "__fish_fleet_using_subcommand help; and not __fish_seen_subcommand_from product cohort device config ca api-key event firmware signing-key bundle release simulate whoami profile completions server help" -f -a "api-key" -d 'Manage API keys: roles, product scopes, expiry, revocation'
complete -c fleet -n "__fish_fleet_using_subcommand help; and not __fish_seen_subcommand_from product cohort device config ca api-key event firmware signing-key bundle release simulate whoami profile completions server help" -f -a "event" -d 'Read the audit log: every write and refused request'
complete -c fleet -n "__fish_fleet_using_subcommand help; and not __fish_seen_subcommand_from product cohort device config ca api-key event firmware signing-key bundle release simulate whoami profile completions server help" -f -a "firmware" -d 'Push, list, show, pull and abandon firmware binaries'
complete -c fleet -n "__fish_fleet_using_subcommand help; and not __fish_seen_subcommand_from product cohort device config ca api-key event firmware signing-key bundle release simulate whoami profile completions server help" -f -a "signing-key" -d 'Manage Ed25519 keys that sign firmware'
complete -c fleet -n "__fish_fleet_using_subcommand help; and not __fish_seen_subcommand_from product cohort device config ca api-key event firmware signing-key bundle release simulate whoami profile completions server help" -f -a "bundle" -d 'Manage bundles: ordered sets of a product\'s binaries'
complete -c fleet -n "__fish_fleet_using_subcommand help; and not __fish_seen_subcommand_from product cohort device config ca api-key event firmware signing-key bundle release simulate whoami profile completions server help" -f -a "release" -d 'Manage releases: bundles rolled out to cohorts'
complete -c fleet -n "__fish_fleet_using_subcommand help; and not __fish_seen_subcommand_from product cohort device config ca api-key event firmware signing-key bundle release simulate whoami profile completions server help" -f -a "simulate" -d 'Run simulated devices against the device API: check-ins, updates, reports'
complete -c fleet -n "__fish_fleet_using_subcommand help; and not __fish_seen_subcommand_from product cohort device config ca api-key event firmware signing-key bundle release simulate whoami profile completions server help" -f -a "whoami" -d 'Show the profile, URL and API key in effect and where each came from'
complete -c fleet -n "__fish_fleet_using_subcommand help; and not __fish_seen_subcommand_from product cohort device config ca api-key event firmware signing-key bundle release simulate whoami profile completions server help" -f -a "profile" -d 'Manage connection profiles (service URL + API key)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and not __fish_seen_subcommand_from product cohort device config ca api-key event firmware signing-key bundle release simulate whoami profile completions server help" -f -a "completions" -d 'Print a shell completion script'
complete -c fleet -n "__fish_fleet_using_subcommand help; and not __fish_seen_subcommand_from product cohort device config ca api-key event firmware signing-key bundle release simulate whoami profile completions server help" -f -a "server" -d 'Run the fleet service: the HTTP API over an embedded SQLite database, or over PostgreSQL with `--database-url`'
complete -c fleet -n "__fish_fleet_using_subcommand help; and not __fish_seen_subcommand_from product cohort device config ca api-key event firmware signing-key bundle release simulate whoami profile completions server help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "create" -d 'Create a product'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "list" -d 'List products'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "show" -d 'Show one product'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "update" -d 'Change a product\'s name, description or tags'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "archive" -d 'Archive a product: it stays readable but accepts no new devices or cohorts'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "unarchive" -d 'Make an archived product active again'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "delete" -d 'Delete a product that has no devices (its cohorts go with it)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from product" -f -a "stats" -d 'Show a product\'s statistics: devices, connection, firmware, rollouts (--watch to follow)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from cohort" -f -a "create" -d 'Create a cohort in a product'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from cohort" -f -a "list" -d 'List cohorts, of one product or all'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from cohort" -f -a "show" -d 'Show one cohort'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from cohort" -f -a "update" -d 'Rename a cohort or change its description'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from cohort" -f -a "delete" -d 'Delete a cohort'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from cohort" -f -a "assign" -d 'Put devices into a cohort'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from cohort" -f -a "unassign" -d 'Take devices out of their cohorts'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from cohort" -f -a "stats" -d 'Show a cohort\'s statistics: devices, connection, firmware, its release (--watch to follow)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "create" -d 'Register a device in a product'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "list" -d 'List devices, filtered by product, cohort, tags, target, quarantine, or what their check-ins said (online, seen within, running, update state)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "show" -d 'Show one device: its settings, when it last checked in, what it runs, its update state'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "update" -d 'Change a device\'s cohort, tags, target, quarantine or description'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "delete" -d 'Delete a device'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "move" -d 'Move devices to another product (they must be re-provisioned)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "import" -d 'Import devices from a CSV file'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from device" -f -a "cert" -d 'Register, list, revoke and issue device certificates'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Show a configuration document (or with --effective, what devices get)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "set" -d 'Set keys by dotted path (values are JSON, else text)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "unset" -d 'Remove keys by dotted path (an override then inherits them again)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "apply" -d 'Replace a whole document from a JSON file or stdin'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "edit" -d 'Edit a document in $EDITOR, checked before it is sent'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "history" -d 'List a document\'s revisions, newest first'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "diff" -d 'Show what changed between two revisions'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "override" -d 'Set or remove keys in many devices\' overrides at once (a bulk operation)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "rollback" -d 'Make an earlier revision\'s document current again, as a new revision'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "schema" -d 'Show, set or remove the product\'s JSON Schema'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "add" -d 'Register a CA certificate for a product\'s devices'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "list" -d 'List certificate authorities, of one product or all'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "show" -d 'Show one certificate authority'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "update" -d 'Enable or disable a certificate authority or change its JITP settings'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "delete" -d 'Delete a certificate authority'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from ca" -f -a "generate" -d 'Make a new CA (certificate and key) in a local directory'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from api-key" -f -a "create" -d 'Create an API key; its secret is printed once'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from api-key" -f -a "list" -d 'List API keys (never their secrets)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from api-key" -f -a "show" -d 'Show one API key'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from api-key" -f -a "revoke" -d 'Revoke an API key: it stops working with the next request'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from event" -f -a "list" -d 'List audit events, oldest first'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from firmware" -f -a "push" -d 'Upload a firmware file (resumable, verified), optionally sign and release it'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from firmware" -f -a "list" -d 'List binaries'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from firmware" -f -a "show" -d 'Show one binary'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from firmware" -f -a "pull" -d 'Download a ready binary to a file, verifying its SHA-256'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from firmware" -f -a "policy" -d 'Show or change a product\'s firmware policy (signed firmware required?)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from firmware" -f -a "abandon" -d 'Give up an unfinished upload: delete the binary and the parts it received'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from signing-key" -f -a "generate" -d 'Make a new key pair: private key to a file (0600), public key registered'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from signing-key" -f -a "register" -d 'Register an existing public key (or the public half of a private key file)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from signing-key" -f -a "list" -d 'List registered keys'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from signing-key" -f -a "delete" -d 'Delete a registered key (its signatures go too)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from bundle" -f -a "create" -d 'Create a bundle from ready binaries of one product'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from bundle" -f -a "list" -d 'List a product\'s bundles'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from bundle" -f -a "show" -d 'Show one bundle'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from release" -f -a "create" -d 'Release a bundle to a cohort'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from release" -f -a "list" -d 'List a product\'s releases (a cohort\'s history with --cohort)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from release" -f -a "show" -d 'Show one release'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from release" -f -a "update" -d 'Change a release\'s rollout, schedule, guard or whether it is required'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from release" -f -a "halt" -d 'Stop offering a release to devices that have not started it'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from release" -f -a "resume" -d 'Offer a halted release again'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from release" -f -a "promote" -d 'Move a release\'s rollout to its next step (or --to a percentage) now'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from release" -f -a "status" -d 'Show how far a release got: states, success rate, failure reasons (--watch to follow)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "add" -d 'Add or replace a profile'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "list" -d 'List profiles; `*` marks the default'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "show" -d 'Show a profile (never its API key)'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "use" -d 'Make a profile the default'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "remove" -d 'Remove a profile and its stored API key'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "api-key" -d 'Manage API keys directly in the database, without a running service'
complete -c fleet -n "__fish_fleet_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "migrate" -d 'Copy a deployment to another database (e.g. SQLite to PostgreSQL) and verify the copy'
