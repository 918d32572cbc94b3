// The target's functions are the inline ones in include/CIntrinsics.h; SwiftPM needs a source file.
#include "CIntrinsics.h"
