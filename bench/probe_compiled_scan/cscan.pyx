# cython: language_level=3, boundscheck=False, wraparound=False
"""A throwaway probe, not part of scraper: the page visit's per-node work in C.

Walks libxml2's nodes under an lxml element without creating a Python object per node:
every ``<a href>``'s href and text (returned as Python strings), every element whose
lower-cased class holds one of ``gate_words`` (counted), and every script whose text
holds one of ``markers`` (returned). It reads libxml2's structures only (no libxml2
function is called), through lxml's public C API for the element's node.
"""

from libc.stdlib cimport free, malloc, realloc
from libc.string cimport strcmp, strlen, strstr
from cpython.unicode cimport PyUnicode_DecodeUTF8

cimport lxml.includes.etreepublic as cetree
from lxml.includes cimport tree

cdef extern from "ctype.h":
    int tolower(int c)

cetree.import_lxml__etree()


cdef const char* get_attr(tree.xmlNode* node, const char* name) noexcept:
    cdef tree.xmlAttr* attribute = node.properties
    while attribute is not NULL:
        if strcmp(<const char*>attribute.name, name) == 0:
            if attribute.children is not NULL and attribute.children.content is not NULL:
                return <const char*>attribute.children.content
            return ""
        attribute = attribute.next
    return NULL


cdef struct Buffer:
    char* data
    size_t length
    size_t capacity


cdef void append(Buffer* buffer, const char* text) noexcept:
    cdef size_t size = strlen(text)
    cdef size_t i
    if buffer.length + size + 1 > buffer.capacity:
        buffer.capacity = (buffer.length + size + 1) * 2
        buffer.data = <char*>realloc(buffer.data, buffer.capacity)
    for i in range(size):
        buffer.data[buffer.length + i] = text[i]
    buffer.length += size
    buffer.data[buffer.length] = 0


cdef void text_of(tree.xmlNode* node, Buffer* buffer) noexcept:
    cdef tree.xmlNode* child = node.children
    while child is not NULL:
        if child.type == tree.XML_TEXT_NODE and child.content is not NULL:
            append(buffer, <const char*>child.content)
        elif child.type == tree.XML_ELEMENT_NODE:
            text_of(child, buffer)
        child = child.next


def scan(cetree._Element root, list gate_words, list markers):
    """(links as (href, text) pairs, number of gated candidates, scripts holding a marker)."""
    cdef tree.xmlNode* top = root._c_node
    cdef tree.xmlNode* node = top
    cdef tree.xmlNode* child
    cdef const char* name
    cdef const char* value
    cdef Buffer buffer
    cdef char lowered[256]
    cdef size_t i, size
    cdef int j
    encoded_words = [word.encode() for word in gate_words]
    encoded_markers = [marker.encode() for marker in markers]
    cdef int word_count = len(encoded_words), marker_count = len(encoded_markers)
    cdef const char** words = <const char**>malloc(word_count * sizeof(char*))
    cdef const char** marks = <const char**>malloc(marker_count * sizeof(char*))
    for j in range(word_count):
        words[j] = encoded_words[j]
    for j in range(marker_count):
        marks[j] = encoded_markers[j]
    buffer.data = <char*>malloc(256)
    buffer.length = 0
    buffer.capacity = 256
    links = []
    candidates = 0
    scripts = []
    while node is not NULL:
        if node.type == tree.XML_ELEMENT_NODE:
            name = <const char*>node.name
            if name[0] == b"a" and name[1] == 0:
                value = get_attr(node, "href")
                if value is not NULL:
                    buffer.length = 0
                    buffer.data[0] = 0
                    text_of(node, &buffer)
                    links.append((
                        PyUnicode_DecodeUTF8(value, strlen(value), "replace"),
                        PyUnicode_DecodeUTF8(buffer.data, buffer.length, "replace"),
                    ))
            elif strcmp(name, "script") == 0:
                child = node.children
                if child is not NULL and child.content is not NULL:
                    for j in range(marker_count):
                        if strstr(<const char*>child.content, marks[j]) is not NULL:
                            size = strlen(<const char*>child.content)
                            scripts.append(
                                PyUnicode_DecodeUTF8(<const char*>child.content, size, "replace")
                            )
                            break
            else:
                value = get_attr(node, "class")
                if value is not NULL:
                    size = min(strlen(value), 255)
                    for i in range(size):
                        lowered[i] = tolower(value[i])
                    lowered[size] = 0
                    for j in range(word_count):
                        if strstr(lowered, words[j]) is not NULL:
                            candidates += 1
                            break
        # The next node in document order.
        if node.children is not NULL and node.type == tree.XML_ELEMENT_NODE:
            node = node.children
            continue
        while node is not NULL and node is not top and node.next is NULL:
            node = node.parent
        if node is NULL or node is top:
            break
        node = node.next
    free(buffer.data)
    free(words)
    free(marks)
    return links, candidates, scripts
