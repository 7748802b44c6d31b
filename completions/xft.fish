# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_xft_global_optspecs
    string join \n jid= server= direct-tls ca= insecure resource= password-file= password-command= config= timeout= json v/verbose q/quiet progress= omemo-trust= h/help V/version
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

complete -c xft -n "__fish_xft_needs_command" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_needs_command" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_needs_command" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_needs_command" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_needs_command" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_needs_command" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_needs_command" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_needs_command" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_needs_command" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_needs_command" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_needs_command" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_needs_command" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_needs_command" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_needs_command" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_needs_command" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_needs_command" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_needs_command" -s V -l version -d 'Print version'
complete -c xft -n "__fish_xft_needs_command" -f -a "send" -d 'Send files to JID: peer to peer (SI or Jingle), or by HTTP upload'
complete -c xft -n "__fish_xft_needs_command" -f -a "recv" -d 'Stay online and receive files (one, unless --count says otherwise)'
complete -c xft -n "__fish_xft_needs_command" -f -a "upload" -d 'Upload files to your server (XEP-0363) and print their URLs'
complete -c xft -n "__fish_xft_needs_command" -f -a "contact" -d 'Manage contacts (sending to a bare JID needs a subscription)'
complete -c xft -n "__fish_xft_needs_command" -f -a "vcard" -d 'Read or publish vCards (XEP-0054)'
complete -c xft -n "__fish_xft_needs_command" -f -a "probe" -d 'What will work with your server and JID, and why'
complete -c xft -n "__fish_xft_needs_command" -f -a "omemo" -d 'End-to-end encryption (OMEMO): fingerprints, devices, trust'
complete -c xft -n "__fish_xft_needs_command" -f -a "man" -d 'Print the manual page (roff; `xft man | man -l -`)'
complete -c xft -n "__fish_xft_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c xft -n "__fish_xft_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xft -n "__fish_xft_using_subcommand send" -l to -d 'Send to JID (repeatable: one session, each recipient in turn, a line each, and a non-zero exit if any failed)' -r
complete -c xft -n "__fish_xft_using_subcommand send" -l method -d 'How to send: auto offers the file peer to peer (SOCKS5, then in-band) and uploads it (XEP-0363) when the recipient is offline, not a contact, cannot take it or does not answer, and says so' -r -f -a "auto\t'SOCKS5 first, in-band as the fallback, HTTP upload when no peer can take it'
s5b\t'SOCKS5 bytestreams only (XEP-0065)'
ibb\t'In-band bytestreams only (XEP-0047)'
upload\t'Upload to the server (XEP-0363) and send the link in a message: works when the recipient is offline, and with every modern client'"
complete -c xft -n "__fish_xft_using_subcommand send" -l protocol -d 'Peer-to-peer protocol: auto uses Jingle file transfer (SOCKS5, then in-band) when the recipient\'s client lists it, and SI otherwise' -r -f -a "auto\t'SI when the recipient speaks it, else Jingle'
jingle\t'Jingle file transfer (XEP-0234) over SOCKS5 (XEP-0260) or in-band (XEP-0261)'
si\t'SI file transfer (XEP-0096)'"
complete -c xft -n "__fish_xft_using_subcommand send" -l name -d 'Offer the file under this name (one FILE only; the default for \'-\' is "stdin")' -r
complete -c xft -n "__fish_xft_using_subcommand send" -l desc -d 'A description sent with the offer' -r
complete -c xft -n "__fish_xft_using_subcommand send" -l block-size -d 'In-band bytestream block size in bytes (1-65535; the recipient may ask for less)' -r
complete -c xft -n "__fish_xft_using_subcommand send" -l window -d 'In-band blocks sent before waiting for acknowledgements' -r
complete -c xft -n "__fish_xft_using_subcommand send" -l presence-wait -d 'Seconds to wait for a bare JID\'s resources to show up (0 to 31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand send" -l parallel -d 'Recipients sent to side by side at most (with --to; default 4)' -r
complete -c xft -n "__fish_xft_using_subcommand send" -l s5b-address -d 'Offer exactly this address for direct SOCKS5 connections (repeatable, or comma-separated in XFT_S5B_ADDRESS), instead of every interface address: a public address with a forwarded port, or 127.0.0.1' -r
complete -c xft -n "__fish_xft_using_subcommand send" -l s5b-port -d 'Port for direct SOCKS5 connections (default: any free port)' -r
complete -c xft -n "__fish_xft_using_subcommand send" -l proxy -d 'Use this SOCKS5 proxy (XEP-0065) instead of discovering the server\'s' -r
complete -c xft -n "__fish_xft_using_subcommand send" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand send" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand send" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand send" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand send" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand send" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand send" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand send" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand send" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand send" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand send" -l no-hash -d 'Send no hash: no MD5 in an SI offer (saves reading the file once before sending), no SHA-256 checksum after Jingle data. The receiver then checks only the size (libervia refuses such Jingle offers)'
complete -c xft -n "__fish_xft_using_subcommand send" -l no-proxy -d 'Offer no proxy'
complete -c xft -n "__fish_xft_using_subcommand send" -l no-direct -d 'Offer no direct connection (only proxies)'
complete -c xft -n "__fish_xft_using_subcommand send" -l encrypt -d 'Encrypt end to end: the file encrypted and uploaded (XEP-0454), the link sent in an OMEMO message to the recipient\'s trusted devices. Never falls back to plaintext: without a trusted device, nothing is sent (exit 16)'
complete -c xft -n "__fish_xft_using_subcommand send" -l no-encrypt -d 'Do not encrypt, even when the config says `encrypt = true`'
complete -c xft -n "__fish_xft_using_subcommand send" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand send" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand send" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand send" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand send" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand send" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xft -n "__fish_xft_using_subcommand recv" -l dir -d 'Directory to store files in (default: the current directory)' -r -F
complete -c xft -n "__fish_xft_using_subcommand recv" -s o -l output -d 'Write the file to exactly PATH, or to stdout with \'-\' (one file only). On stdout a failure is known only at the end: check the exit code' -r -F
complete -c xft -n "__fish_xft_using_subcommand recv" -l from -d 'Accept files only from JID (repeatable; a bare JID allows all its resources). Default: your contacts and your own other resources' -r
complete -c xft -n "__fish_xft_using_subcommand recv" -l count -d 'Number of files to receive before exiting; 0 = until interrupted' -r
complete -c xft -n "__fish_xft_using_subcommand recv" -l parallel -d 'Transfers received side by side at most; further offers wait (default 4)' -r
complete -c xft -n "__fish_xft_using_subcommand recv" -l max-size -d 'Decline files larger than this (bytes; K, M, G, T suffixes are powers of 1024)' -r
complete -c xft -n "__fish_xft_using_subcommand recv" -l approve -d 'Approve presence subscription requests from JID while running (repeatable)' -r
complete -c xft -n "__fish_xft_using_subcommand recv" -l s5b-address -d 'Jingle SOCKS5 candidates of our own (XEP-0260), offered beside the sender\'s: exactly this address (repeatable, or comma-separated in XFT_S5B_ADDRESS) instead of every interface address' -r
complete -c xft -n "__fish_xft_using_subcommand recv" -l s5b-port -d 'Port for our direct Jingle SOCKS5 candidates (default: any free port)' -r
complete -c xft -n "__fish_xft_using_subcommand recv" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand recv" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand recv" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand recv" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand recv" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand recv" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand recv" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand recv" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand recv" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand recv" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand recv" -l accept-any -d 'Accept files from anybody'
complete -c xft -n "__fish_xft_using_subcommand recv" -l overwrite -d 'Replace existing files instead of picking "name (1).ext"'
complete -c xft -n "__fish_xft_using_subcommand recv" -l no-resume -d 'Do not resume: when the same sender offers a file again whose earlier transfer broke, receive it whole under a new name instead of appending to its .part'
complete -c xft -n "__fish_xft_using_subcommand recv" -l no-direct -d 'Offer no direct Jingle SOCKS5 candidate of our own (only the server\'s proxy)'
complete -c xft -n "__fish_xft_using_subcommand recv" -l no-proxy -d 'Offer no proxy candidate of our own'
complete -c xft -n "__fish_xft_using_subcommand recv" -l no-omemo -d 'Publish no OMEMO device and decrypt nothing (also `omemo = false` in the config)'
complete -c xft -n "__fish_xft_using_subcommand recv" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand recv" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand recv" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand recv" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand recv" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand recv" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand upload" -l name -d 'Upload under this name (one FILE only; the default for \'-\' is "stdin")' -r
complete -c xft -n "__fish_xft_using_subcommand upload" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand upload" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand upload" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand upload" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand upload" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand upload" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand upload" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand upload" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand upload" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand upload" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand upload" -l encrypt -d 'Encrypt the file (XEP-0454) under a random name and print its aesgcm:// link, which holds the key: share it only end-to-end encrypted'
complete -c xft -n "__fish_xft_using_subcommand upload" -l no-encrypt -d 'Do not encrypt, even when the config says `encrypt = true`'
complete -c xft -n "__fish_xft_using_subcommand upload" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand upload" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand upload" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand upload" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand upload" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand upload" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -f -a "add" -d 'Ask to see JID\'s presence, and pre-approve theirs'
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -f -a "approve" -d 'Approve JID\'s subscription request (and ask for theirs in return)'
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -f -a "remove" -d 'Remove JID from your contacts (cancels both subscriptions)'
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -f -a "list" -d 'List your contacts and subscription states'
complete -c xft -n "__fish_xft_using_subcommand contact; and not __fish_seen_subcommand_from add approve remove list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from add" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from add" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from add" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from add" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from add" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from add" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from add" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from add" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from add" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from add" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from add" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from add" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from add" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from approve" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from approve" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from approve" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from approve" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from approve" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from approve" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from approve" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from approve" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from approve" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from approve" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from approve" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from approve" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from approve" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from approve" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from approve" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from approve" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from remove" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from remove" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from remove" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from remove" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from remove" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from remove" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from remove" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from remove" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from remove" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from remove" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from remove" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from remove" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from remove" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from list" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from list" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from list" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from list" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from list" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from list" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from list" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from list" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from list" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from list" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from list" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from list" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from list" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from help" -f -a "add" -d 'Ask to see JID\'s presence, and pre-approve theirs'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from help" -f -a "approve" -d 'Approve JID\'s subscription request (and ask for theirs in return)'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove JID from your contacts (cancels both subscriptions)'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from help" -f -a "list" -d 'List your contacts and subscription states'
complete -c xft -n "__fish_xft_using_subcommand contact; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -f -a "get" -d 'Print a vCard: your own, or that of JID'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -f -a "set" -d 'Change fields of your vCard, or replace it with --xml FILE'
complete -c xft -n "__fish_xft_using_subcommand vcard; and not __fish_seen_subcommand_from get set help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l xml -d 'Print the vCard element as received instead of a listing'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l fn -d 'Full name (FN); an empty value removes it' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l nickname -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l email -d 'E-mail address; repeat for several; replaces all addresses' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l url -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l note -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l photo -d 'Avatar image (PNG, JPEG, GIF or WebP)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l xml -d 'Publish this whole vCard (a <vCard xmlns=\'vcard-temp\'> document; \'-\' = stdin)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from help" -f -a "get" -d 'Print a vCard: your own, or that of JID'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from help" -f -a "set" -d 'Change fields of your vCard, or replace it with --xml FILE'
complete -c xft -n "__fish_xft_using_subcommand vcard; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xft -n "__fish_xft_using_subcommand probe" -l s5b-address -d 'Addresses `xft send` would offer for direct SOCKS5 connections (as for send)' -r
complete -c xft -n "__fish_xft_using_subcommand probe" -l presence-wait -d 'Seconds to wait for a bare JID\'s resources to show up' -r
complete -c xft -n "__fish_xft_using_subcommand probe" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand probe" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand probe" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand probe" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand probe" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand probe" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand probe" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand probe" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand probe" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand probe" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand probe" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand probe" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand probe" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand probe" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand probe" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand probe" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -f -a "fingerprint" -d 'Print this device\'s OMEMO fingerprint (publishing the device on first use)'
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -f -a "devices" -d 'List the OMEMO devices of JID (default: your own), their fingerprints and trust'
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -f -a "trust" -d 'Mark JID\'s key FINGERPRINT as verified (compare it with JID first, in person or over a channel you trust). After this, JID\'s new keys need your decision'
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -f -a "distrust" -d 'Never encrypt for, nor accept files from, JID\'s key FINGERPRINT'
complete -c xft -n "__fish_xft_using_subcommand omemo; and not __fish_seen_subcommand_from fingerprint devices trust distrust help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from fingerprint" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from fingerprint" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from fingerprint" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from fingerprint" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from fingerprint" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from fingerprint" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from fingerprint" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from fingerprint" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from fingerprint" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from fingerprint" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from fingerprint" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from fingerprint" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from fingerprint" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from fingerprint" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from fingerprint" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from fingerprint" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from devices" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from devices" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from devices" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from devices" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from devices" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from devices" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from devices" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from devices" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from devices" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from devices" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from devices" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from devices" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from devices" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from devices" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from devices" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from devices" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from trust" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from trust" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from trust" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from trust" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from trust" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from trust" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from trust" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from trust" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from trust" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from trust" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from trust" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from trust" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from trust" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from trust" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from trust" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from trust" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from distrust" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from distrust" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from distrust" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from distrust" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from distrust" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from distrust" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from distrust" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from distrust" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from distrust" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from distrust" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from distrust" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from distrust" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from distrust" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from distrust" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from distrust" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from distrust" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from help" -f -a "fingerprint" -d 'Print this device\'s OMEMO fingerprint (publishing the device on first use)'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from help" -f -a "devices" -d 'List the OMEMO devices of JID (default: your own), their fingerprints and trust'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from help" -f -a "trust" -d 'Mark JID\'s key FINGERPRINT as verified (compare it with JID first, in person or over a channel you trust). After this, JID\'s new keys need your decision'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from help" -f -a "distrust" -d 'Never encrypt for, nor accept files from, JID\'s key FINGERPRINT'
complete -c xft -n "__fish_xft_using_subcommand omemo; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xft -n "__fish_xft_using_subcommand man" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand man" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand man" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand man" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand man" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand man" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand man" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand man" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand man" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand man" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand man" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand man" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand man" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand man" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand man" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand man" -s h -l help -d 'Print help'
complete -c xft -n "__fish_xft_using_subcommand completions" -l jid -d 'Your account: alice@example.org (a full JID picks the resource)' -r
complete -c xft -n "__fish_xft_using_subcommand completions" -l server -d 'Connect here instead of looking up DNS SRV records' -r
complete -c xft -n "__fish_xft_using_subcommand completions" -l ca -d 'Also trust this PEM certificate (a self-signed server\'s, or its CA)' -r -F
complete -c xft -n "__fish_xft_using_subcommand completions" -l resource -d 'Resource to bind (default: random)' -r
complete -c xft -n "__fish_xft_using_subcommand completions" -l password-file -d 'Password from FILE\'s first line (not readable by others)' -r -F
complete -c xft -n "__fish_xft_using_subcommand completions" -l password-command -d 'Password from the first line CMD prints (`sh -c`)' -r
complete -c xft -n "__fish_xft_using_subcommand completions" -l config -d 'Config file (default: $XDG_CONFIG_HOME/xft/config.toml)' -r -F
complete -c xft -n "__fish_xft_using_subcommand completions" -l timeout -d 'Deadline in seconds for every wait: an answer, the login, the next bytes (1-31536000)' -r
complete -c xft -n "__fish_xft_using_subcommand completions" -l progress -d 'A bar on a terminal (auto), NDJSON events on stderr (json), or none' -r -f -a "auto\t''
bar\t''
json\t''
none\t''"
complete -c xft -n "__fish_xft_using_subcommand completions" -l omemo-trust -d 'Trust new OMEMO keys: blind (until you verify one) or manual' -r -f -a "blind\t''
manual\t''"
complete -c xft -n "__fish_xft_using_subcommand completions" -l direct-tls -d 'TLS from the first byte (XEP-0368; port 5223) instead of STARTTLS'
complete -c xft -n "__fish_xft_using_subcommand completions" -l insecure -d 'Do not verify the server\'s certificate (NOT authenticated)'
complete -c xft -n "__fish_xft_using_subcommand completions" -l json -d 'JSON results on stdout'
complete -c xft -n "__fish_xft_using_subcommand completions" -s v -l verbose -d 'Log steps (-v) and the XML exchanged (-vv, credentials redacted)'
complete -c xft -n "__fish_xft_using_subcommand completions" -s q -l quiet -d 'Errors only on stderr'
complete -c xft -n "__fish_xft_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xft -n "__fish_xft_using_subcommand help; and not __fish_seen_subcommand_from send recv upload contact vcard probe omemo man completions help" -f -a "send" -d 'Send files to JID: peer to peer (SI or Jingle), or by HTTP upload'
complete -c xft -n "__fish_xft_using_subcommand help; and not __fish_seen_subcommand_from send recv upload contact vcard probe omemo man completions help" -f -a "recv" -d 'Stay online and receive files (one, unless --count says otherwise)'
complete -c xft -n "__fish_xft_using_subcommand help; and not __fish_seen_subcommand_from send recv upload contact vcard probe omemo man completions help" -f -a "upload" -d 'Upload files to your server (XEP-0363) and print their URLs'
complete -c xft -n "__fish_xft_using_subcommand help; and not __fish_seen_subcommand_from send recv upload contact vcard probe omemo man completions help" -f -a "contact" -d 'Manage contacts (sending to a bare JID needs a subscription)'
complete -c xft -n "__fish_xft_using_subcommand help; and not __fish_seen_subcommand_from send recv upload contact vcard probe omemo man completions help" -f -a "vcard" -d 'Read or publish vCards (XEP-0054)'
complete -c xft -n "__fish_xft_using_subcommand help; and not __fish_seen_subcommand_from send recv upload contact vcard probe omemo man completions help" -f -a "probe" -d 'What will work with your server and JID, and why'
complete -c xft -n "__fish_xft_using_subcommand help; and not __fish_seen_subcommand_from send recv upload contact vcard probe omemo man completions help" -f -a "omemo" -d 'End-to-end encryption (OMEMO): fingerprints, devices, trust'
complete -c xft -n "__fish_xft_using_subcommand help; and not __fish_seen_subcommand_from send recv upload contact vcard probe omemo man completions help" -f -a "man" -d 'Print the manual page (roff; `xft man | man -l -`)'
complete -c xft -n "__fish_xft_using_subcommand help; and not __fish_seen_subcommand_from send recv upload contact vcard probe omemo man completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c xft -n "__fish_xft_using_subcommand help; and not __fish_seen_subcommand_from send recv upload contact vcard probe omemo man completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xft -n "__fish_xft_using_subcommand help; and __fish_seen_subcommand_from contact" -f -a "add" -d 'Ask to see JID\'s presence, and pre-approve theirs'
complete -c xft -n "__fish_xft_using_subcommand help; and __fish_seen_subcommand_from contact" -f -a "approve" -d 'Approve JID\'s subscription request (and ask for theirs in return)'
complete -c xft -n "__fish_xft_using_subcommand help; and __fish_seen_subcommand_from contact" -f -a "remove" -d 'Remove JID from your contacts (cancels both subscriptions)'
complete -c xft -n "__fish_xft_using_subcommand help; and __fish_seen_subcommand_from contact" -f -a "list" -d 'List your contacts and subscription states'
complete -c xft -n "__fish_xft_using_subcommand help; and __fish_seen_subcommand_from vcard" -f -a "get" -d 'Print a vCard: your own, or that of JID'
complete -c xft -n "__fish_xft_using_subcommand help; and __fish_seen_subcommand_from vcard" -f -a "set" -d 'Change fields of your vCard, or replace it with --xml FILE'
complete -c xft -n "__fish_xft_using_subcommand help; and __fish_seen_subcommand_from omemo" -f -a "fingerprint" -d 'Print this device\'s OMEMO fingerprint (publishing the device on first use)'
complete -c xft -n "__fish_xft_using_subcommand help; and __fish_seen_subcommand_from omemo" -f -a "devices" -d 'List the OMEMO devices of JID (default: your own), their fingerprints and trust'
complete -c xft -n "__fish_xft_using_subcommand help; and __fish_seen_subcommand_from omemo" -f -a "trust" -d 'Mark JID\'s key FINGERPRINT as verified (compare it with JID first, in person or over a channel you trust). After this, JID\'s new keys need your decision'
complete -c xft -n "__fish_xft_using_subcommand help; and __fish_seen_subcommand_from omemo" -f -a "distrust" -d 'Never encrypt for, nor accept files from, JID\'s key FINGERPRINT'
