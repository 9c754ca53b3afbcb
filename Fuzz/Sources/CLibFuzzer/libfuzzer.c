// Nothing to compile: this target only carries include/libfuzzer.h.
