#include <stdio.h>
#include "repack.h"
int main(void)
{
	puts("repack " REPACK_VERSION);
	return 0;
}
