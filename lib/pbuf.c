#include <stdlib.h>

#include "pbuf_int.h"

static void *
budget_alloc(void *data, size_t size)
{
	struct ls_pb_budget *bud = data;
	size_t *p;

	if (size > bud->left || size + sizeof(max_align_t) < size)
		return NULL;
	p = malloc(size + sizeof(max_align_t));
	if (p == NULL)
		return NULL;
	bud->left -= size;
	*p = size;
	return (char *)p + sizeof(max_align_t);
}

static void
budget_free(void *data, void *ptr)
{
	struct ls_pb_budget *bud = data;
	size_t *p;

	if (ptr == NULL)
		return;
	p = (size_t *)(void *)((char *)ptr - sizeof(max_align_t));
	bud->left += *p;
	free(p);
}

void
ls_pb_budget_init(struct ls_pb_budget *b, size_t limit)
{
	b->left = limit;
	b->alloc.alloc = budget_alloc;
	b->alloc.free = budget_free;
	b->alloc.allocator_data = b;
}
