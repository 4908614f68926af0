/*
 * pbuf_int.h - a protobuf-c allocator with a budget, for unpacking untrusted
 * bytes (record.c, api_codec.c). Not a public header.
 */
#ifndef LS_PBUF_INT_H
#define LS_PBUF_INT_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct ls_pb_budget {
	size_t left;              /* bytes that may still be allocated */
	ProtobufCAllocator alloc; /* pass &alloc to *__unpack and *__free_unpacked */
};

/* Sets b up to allow `limit` bytes of live allocations; past that, allocation
 * fails and unpacking returns NULL. b must outlive the unpacked message. */
void ls_pb_budget_init(struct ls_pb_budget *b, size_t limit);

#endif
