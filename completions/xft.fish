# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_xft_global_optspecs
    string join \n jid= server= direct-tls ca= insecure resource= password-file= password-command= config= timeout= json v/verbose q/quiet h/help V/version
end

function __fish_xft_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_xft_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_xft_using_subcommand
    set -l cmd (__fish_xft_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c xft -n "__fish_xft_needs_command" -l jid -d 'Your account, e.g. alice@example.org (or a full JID to choose the resource)' -r
complete -c xft -n "__fish_xft_needs_command" -l server -d 'Connect to HOST[:PORT] instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_needs_command" -l ca -d 'Also trust this PEM certificate: the server\'s own (self-signed) certificate or its CA' -r -F
complete -c xft -n "__fish_xft_needs_command" -l resource -d 'Resource to bind (default: a random one)' -r
complete -c xft -n "__fish_xft_needs_command" -l password-file -d 'Read the password from the first line of FILE (must not be readable by others)' -r -F
complete -c xft -n "__fish_xft_needs_command" -l password-command -d 'Run CMD with `sh -c` and use the first line of its output as the password' -r
complete -c xft -n "__fish_xft_needs_command" -l config -d 'Configuration file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_needs_command" -l timeout -d 'Seconds to wait for an answer from the server or peer' -r
complete -c xft -n "__fish_xft_needs_command" -l direct-tls -d 'Speak TLS from the first byte (XEP-0368; port 5223 unless given) instead of STARTTLS'
complete -c xft -n "__fish_xft_needs_command" -l insecure -d 'Do not verify the server\'s certificate (encrypted but NOT authenticated)'
complete -c xft -n "__fish_xft_needs_command" -l json -d 'Machine-readable output: JSON on stdout'
complete -c xft -n "__fish_xft_needs_command" -s v -l verbose -d 'More logging on stderr: -v for steps and timings, -vv for the XML exchanged (credentials redacted)'
complete -c xft -n "__fish_xft_needs_command" -s q -l quiet -d 'No progress and no notices on stderr; errors only'
complete -c xft -n "__fish_xft_needs_command" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_needs_command" -s V -l version -d 'Print version'
complete -c xft -n "__fish_xft_needs_command" -f -a "vcard" -d 'Read or publish vCards (XEP-0054)'
complete -c xft -n "__fish_xft_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c xft -n "__fish_xft_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l jid -d 'Your account, e.g. alice@example.org (or a full JID to choose the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l server -d 'Connect to HOST[:PORT] instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l ca -d 'Also trust this PEM certificate: the server\'s own (self-signed) certificate or its CA' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l resource -d 'Resource to bind (default: a random one)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l password-file -d 'Read the password from the first line of FILE (must not be readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l password-command -d 'Run CMD with `sh -c` and use the first line of its output as the password' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l config -d 'Configuration file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l timeout -d 'Seconds to wait for an answer from the server or peer' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l direct-tls -d 'Speak TLS from the first byte (XEP-0368; port 5223 unless given) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l insecure -d 'Do not verify the server\'s certificate (encrypted but NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l json -d 'Machine-readable output: JSON on stdout'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -s v -l verbose -d 'More logging on stderr: -v for steps and timings, -vv for the XML exchanged (credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -s q -l quiet -d 'No progress and no notices on stderr; errors only'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -f -a "get" -d 'Print a vCard: your own, or that of JID'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -f -a "set" -d 'Change fields of your vCard, or replace it with --xml FILE'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l jid -d 'Your account, e.g. alice@example.org (or a full JID to choose the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l server -d 'Connect to HOST[:PORT] instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l ca -d 'Also trust this PEM certificate: the server\'s own (self-signed) certificate or its CA' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l resource -d 'Resource to bind (default: a random one)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l password-file -d 'Read the password from the first line of FILE (must not be readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l password-command -d 'Run CMD with `sh -c` and use the first line of its output as the password' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l config -d 'Configuration file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l timeout -d 'Seconds to wait for an answer from the server or peer' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l xml -d 'Print the vCard element as received instead of a listing'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l direct-tls -d 'Speak TLS from the first byte (XEP-0368; port 5223 unless given) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l insecure -d 'Do not verify the server\'s certificate (encrypted but NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l json -d 'Machine-readable output: JSON on stdout'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -s v -l verbose -d 'More logging on stderr: -v for steps and timings, -vv for the XML exchanged (credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -s q -l quiet -d 'No progress and no notices on stderr; errors only'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l fn -d 'Full name (FN); an empty value removes it' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l nickname -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l email -d 'E-mail address; repeat for several; replaces all addresses' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l url -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l note -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l photo -d 'Avatar image (PNG, JPEG, GIF or WebP)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l xml -d 'Publish this whole vCard (a <vCard xmlns=\'vcard-temp\'> document; \'-\' = stdin)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l jid -d 'Your account, e.g. alice@example.org (or a full JID to choose the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l server -d 'Connect to HOST[:PORT] instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l ca -d 'Also trust this PEM certificate: the server\'s own (self-signed) certificate or its CA' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l resource -d 'Resource to bind (default: a random one)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l password-file -d 'Read the password from the first line of FILE (must not be readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l password-command -d 'Run CMD with `sh -c` and use the first line of its output as the password' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l config -d 'Configuration file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l timeout -d 'Seconds to wait for an answer from the server or peer' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l direct-tls -d 'Speak TLS from the first byte (XEP-0368; port 5223 unless given) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l insecure -d 'Do not verify the server\'s certificate (encrypted but NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l json -d 'Machine-readable output: JSON on stdout'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -s v -l verbose -d 'More logging on stderr: -v for steps and timings, -vv for the XML exchanged (credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -s q -l quiet -d 'No progress and no notices on stderr; errors only'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from help" -f -a "get" -d 'Print a vCard: your own, or that of JID'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from help" -f -a "set" -d 'Change fields of your vCard, or replace it with --xml FILE'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xft -n "__fish_xft_using_subcommand completions" -l jid -d 'Your account, e.g. alice@example.org (or a full JID to choose the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand completions" -l server -d 'Connect to HOST[:PORT] instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand completions" -l ca -d 'Also trust this PEM certificate: the server\'s own (self-signed) certificate or its CA' -r -F
complete -c xft -n "__fish_xft_using_subcommand completions" -l resource -d 'Resource to bind (default: a random one)' -r
complete -c xft -n "__fish_xft_using_subcommand completions" -l password-file -d 'Read the password from the first line of FILE (must not be readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand completions" -l password-command -d 'Run CMD with `sh -c` and use the first line of its output as the password' -r
complete -c xft -n "__fish_xft_using_subcommand completions" -l config -d 'Configuration file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand completions" -l timeout -d 'Seconds to wait for an answer from the server or peer' -r
complete -c xft -n "__fish_xft_using_subcommand completions" -l direct-tls -d 'Speak TLS from the first byte (XEP-0368; port 5223 unless given) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand completions" -l insecure -d 'Do not verify the server\'s certificate (encrypted but NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand completions" -l json -d 'Machine-readable output: JSON on stdout'
complete -c xft -n "__fish_xft_using_subcommand completions" -s v -l verbose -d 'More logging on stderr: -v for steps and timings, -vv for the XML exchanged (credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand completions" -s q -l quiet -d 'No progress and no notices on stderr; errors only'
complete -c xft -n "__fish_xft_using_subcommand completions" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand help; and not __fish_seen_subcommand_from vcard completions help" -f -a "vcard" -d 'Read or publish vCards (XEP-0054)'
complete -c xft -n "__fish_xft_using_subcommand help; and not __fish_seen_subcommand_from vcard completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c xft -n "__fish_xft_using_subcommand help; and not __fish_seen_subcommand_from vcard completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xft -n "__fish_xft_using_subcommand help; and __fish_seen_subcommand_from vcard" -f -a "get" -d 'Print a vCard: your own, or that of JID'
complete -c xft -n "__fish_xft_using_subcommand help; and __fish_seen_subcommand_from vcard" -f -a "set" -d 'Change fields of your vCard, or replace it with --xml FILE'
