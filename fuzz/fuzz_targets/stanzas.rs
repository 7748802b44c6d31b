#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| xft::fuzzing::stanzas(data));
