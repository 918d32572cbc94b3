// Declarations only (include/CFuzzerDriver.h): the symbol comes from libFuzzer's runtime.
#include "CFuzzerDriver.h"
