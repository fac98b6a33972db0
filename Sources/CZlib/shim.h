// zlib, for inflating gzip-compressed combat logs as they stream (Debian: zlib1g-dev).
#include <zlib.h>
