#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| xft::fuzzing::socks5(data));
