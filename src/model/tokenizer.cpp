#include "model/tokenizer.h"
