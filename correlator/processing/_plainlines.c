/* Plain log lines from bytes to a ClickHouse Native block, with no Python object per line.
 *
 * The Python side (correlator/processing/plainlines.py) gives the contract: which input key is
 * which field (formats.events.input_keys(LogEvent), as the lean path reads it), the error levels,
 * and each column of log_events with what it holds for a line with nothing to explain. This
 * file holds no copy of it: it only scans and encodes as told.
 *
 * A line is taken only when it is certainly a plain line the lean path would take as well:
 * a flat JSON object of printable ASCII without a backslash, no key twice, every known field
 * a string, every other key a string or a canonical integer, an ISO timestamp of the one shape
 * the lean path reads, valid and within bounds, and a level that is not an error's. Anything
 * else is declined, and a declined line takes the Python path unchanged: declining is always
 * safe, so nothing here tries to be clever.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* what a key is, as the Python side maps it */
#define KEY_EXTRA (-3)
#define KEY_TIMESTAMP (-2)
#define KEY_GENERAL (-1)

/* what a column holds */
enum {
    COLUMN_TIMESTAMP = 0, /* DateTime64(6): the line's time in microseconds */
    COLUMN_FIELD = 1,     /* a string field (argument: its number; flags: lower, strip) */
    COLUMN_CONSTANT = 2,  /* the same string on every row */
    COLUMN_EMPTY_ARRAY = 3,
    COLUMN_ATTRIBUTES = 4, /* Map(String, String) of the extra keys */
    COLUMN_NULL_FLOAT = 5, /* Nullable(Float64), NULL */
    COLUMN_TOPIC = 6,
    COLUMN_PARTITION = 7, /* Int32 */
    COLUMN_OFFSET = 8,    /* Int64 */
};
#define FLAG_LOWER 1
#define FLAG_STRIP 2

#define MAX_FIELDS 16
#define MAX_EXTRAS 64
#define MAX_KEY 256

typedef struct {
    uint32_t start, length; /* within the line */
} Span;

typedef struct {
    Span key, value;
} Extra;

typedef struct {
    int64_t ts;            /* microseconds since the epoch, UTC */
    uint32_t line;         /* index in the scan's values */
    uint32_t first_extra;  /* into the scan's extras */
    uint16_t extra_count;
    Span fields[MAX_FIELDS];
} Taken;

typedef struct {
    char *name;
    Py_ssize_t length;
    int code;
} KeyEntry;

typedef struct {
    char *header;   /* the column's name and type, encoded */
    Py_ssize_t header_length;
    int kind, field, flags;
    char *constant;
    Py_ssize_t constant_length;
} Column;

typedef struct {
    PyObject_HEAD
    KeyEntry *keys;
    Py_ssize_t key_count, key_slots; /* an open-addressing table of key_slots entries */
    int field_count;
    int level_field;
    char **error_levels;
    Py_ssize_t *error_level_lengths;
    Py_ssize_t error_level_count;
    Column *columns;
    Py_ssize_t column_count;
    int text_fields[MAX_FIELDS]; /* the fields redaction reads, and the attributes' values if attributes_are_text */
    Py_ssize_t text_field_count;
    int attributes_are_text;
} Scanner;

/* texts of the taken lines, each line's ended by a newline: ends[j] is where taken line j's end (after it) */
typedef struct {
    char *data;
    Py_ssize_t length;
    uint32_t *ends;
} Texts;

typedef struct {
    PyObject_HEAD
    Scanner *scanner;
    PyObject *values; /* a tuple of the lines (bytes), kept alive: spans point into them */
    PyObject *topic;  /* str */
    int32_t partition;
    int64_t *offsets;
    Taken *taken;
    Py_ssize_t taken_count;
    Extra *extras;
    Py_ssize_t extra_count, extra_capacity;
    uint32_t *taken_of_line; /* line index -> index in taken + 1, 0: declined */
    Py_ssize_t line_count;
    Texts messages;          /* each taken line's message, stripped, on a line of its own */
    Texts texts;             /* each taken line's texts that redaction reads, each on a line of its own */
} Scan;

static PyTypeObject ScannerType;
static PyTypeObject ScanType;

/* ---- the key table ---- */

static uint64_t hash_bytes(const char *data, Py_ssize_t length) {
    uint64_t hash = 1469598103934665603ULL; /* FNV-1a */
    for (Py_ssize_t i = 0; i < length; i++) {
        hash ^= (unsigned char)data[i];
        hash *= 1099511628211ULL;
    }
    return hash;
}

static int key_code(const Scanner *scanner, const char *key, Py_ssize_t length) {
    uint64_t slot = hash_bytes(key, length) & (uint64_t)(scanner->key_slots - 1);
    for (;;) {
        const KeyEntry *entry = &scanner->keys[slot];
        if (entry->name == NULL)
            return KEY_EXTRA;
        if (entry->length == length && memcmp(entry->name, key, (size_t)length) == 0)
            return entry->code;
        slot = (slot + 1) & (uint64_t)(scanner->key_slots - 1);
    }
}

/* ---- the timestamp: [0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})?
 * and valid as datetime.fromisoformat reads it (a real calendar day, hour < 24, minute and second < 60,
 * an offset under a day). ---- */

static int digits(const char *text, int count, int *value) {
    int result = 0;
    for (int i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9')
            return 0;
        result = result * 10 + (text[i] - '0');
    }
    *value = result;
    return 1;
}

static int64_t days_from_civil(int64_t year, int month, int day) {
    /* days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm) */
    year -= month <= 2;
    const int64_t era = (year >= 0 ? year : year - 399) / 400;
    const int64_t year_of_era = year - era * 400;
    const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

static int days_in_month(int year, int month) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return 29;
    return days[month - 1];
}

/* 1 and the time in microseconds, or 0: not a timestamp taken here */
static int parse_timestamp(const char *text, Py_ssize_t length, int64_t *micros) {
    int year, month, day, hour, minute, second, fraction = 0, offset = 0;
    if (length < 19 || !digits(text, 4, &year) || text[4] != '-' || !digits(text + 5, 2, &month) ||
        text[7] != '-' || !digits(text + 8, 2, &day) || (text[10] != 'T' && text[10] != ' ') ||
        !digits(text + 11, 2, &hour) || text[13] != ':' || !digits(text + 14, 2, &minute) || text[16] != ':' ||
        !digits(text + 17, 2, &second))
        return 0;
    Py_ssize_t at = 19;
    if (at < length && text[at] == '.') {
        at++;
        int count = 0;
        while (at < length && count < 7 && text[at] >= '0' && text[at] <= '9') {
            fraction = fraction * 10 + (text[at] - '0');
            at++;
            count++;
        }
        if (count == 0 || count > 6)
            return 0;
        for (int i = count; i < 6; i++)
            fraction *= 10;
    }
    if (at < length) {
        if (text[at] == 'Z' && at + 1 == length) {
            at++;
        } else if ((text[at] == '+' || text[at] == '-') && at + 6 == length) {
            int offset_hours, offset_minutes;
            if (!digits(text + at + 1, 2, &offset_hours) || text[at + 3] != ':' ||
                !digits(text + at + 4, 2, &offset_minutes) || offset_hours > 23 || offset_minutes > 59)
                return 0;
            offset = (offset_hours * 60 + offset_minutes) * 60;
            if (text[at] == '-')
                offset = -offset;
            at += 6;
        } else {
            return 0;
        }
    }
    if (at != length || year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
        hour > 23 || minute > 59 || second > 59)
        return 0;
    int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
    *micros = seconds * 1000000 + fraction;
    return 1;
}

/* ---- one line ---- */

static inline const char *skip_spaces(const char *at, const char *end) {
    while (at < end && *at == ' ')
        at++;
    return at;
}

/* Every byte printable ASCII (0x20-0x7e) and none a backslash; eight bytes at a time, each test exact for
 * "any byte in the word" (the classic has-zero and has-less words, valid on bytes below 0x80). */
static int printable_without_backslash(const char *at, const char *end) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    for (; end - at >= 8; at += 8) {
        uint64_t word;
        memcpy(&word, at, 8);
        const uint64_t del = word ^ (0x7f * ones), backslash = word ^ ('\\' * ones);
        if ((word & highs) || ((word - 0x20 * ones) & ~word & highs) || ((del - ones) & ~del & highs) ||
            ((backslash - ones) & ~backslash & highs))
            return 0;
    }
    for (; at < end; at++) {
        const unsigned char c = (unsigned char)*at;
        if (c < 0x20 || c > 0x7e || c == '\\')
            return 0;
    }
    return 1;
}

/* Scan one line into ``taken`` (its extras appended to the scan's); 1: taken, 0: declined, -1: out of memory. */
static int scan_line(Scan *scan, const char *line, Py_ssize_t length, int64_t earliest, int64_t latest,
                     Taken *taken) {
    const Scanner *scanner = scan->scanner;
    const char *end = line + length;
    if (!printable_without_backslash(line, end))
        return 0;
    uint32_t seen = 0; /* fields met, one bit each */
    int have_timestamp = 0;
    Py_ssize_t first_extra = scan->extra_count;
    memset(taken->fields, 0, sizeof(Span) * (size_t)scanner->field_count);
    const char *at = skip_spaces(line, end);
    if (at >= end || *at++ != '{')
        return 0;
    at = skip_spaces(at, end);
    if (at < end && *at == '}')
        return 0; /* no timestamp */
    for (;;) {
        if (at >= end || *at != '"')
            return 0;
        const char *key = ++at;
        const char *key_end = memchr(at, '"', (size_t)(end - at));
        if (key_end == NULL)
            return 0;
        at = skip_spaces(key_end + 1, end);
        if (at >= end || *at++ != ':')
            return 0;
        at = skip_spaces(at, end);
        if (at >= end)
            return 0;
        const char *value;
        const char *value_end;
        int is_string;
        if (*at == '"') {
            value = at + 1;
            value_end = memchr(value, '"', (size_t)(end - value));
            if (value_end == NULL)
                return 0;
            at = value_end + 1;
            is_string = 1;
        } else {
            /* a canonical integer, as orjson reads it and str() writes it again: -?(0|[1-9][0-9]*), 18 digits at most */
            value = at;
            if (*at == '-')
                at++;
            const char *first_digit = at;
            while (at < end && *at >= '0' && *at <= '9')
                at++;
            const Py_ssize_t count = at - first_digit;
            if (count == 0 || count > 18 || (*first_digit == '0' && (count > 1 || value != first_digit)))
                return 0;
            if (at < end && *at != ' ' && *at != ',' && *at != '}')
                return 0;
            value_end = at;
            is_string = 0;
        }
        const Py_ssize_t key_length = key_end - key;
        const int code = key_length <= MAX_KEY ? key_code(scanner, key, key_length) : KEY_EXTRA;
        if (code == KEY_GENERAL)
            return 0;
        if (code == KEY_TIMESTAMP) {
            if (!is_string || have_timestamp || !parse_timestamp(value, value_end - value, &taken->ts) ||
                taken->ts < earliest || taken->ts > latest)
                return 0;
            have_timestamp = 1;
        } else if (code >= 0) {
            if (!is_string || (seen >> code) & 1)
                return 0; /* a number for a string field, or two aliases of one field */
            seen |= 1u << code;
            taken->fields[code].start = (uint32_t)(value - line);
            taken->fields[code].length = (uint32_t)(value_end - value);
        } else {
            for (Py_ssize_t i = first_extra; i < scan->extra_count; i++) {
                const Span *other = &scan->extras[i].key;
                if ((Py_ssize_t)other->length == key_length && memcmp(line + other->start, key, (size_t)key_length) == 0)
                    return 0; /* a key twice: orjson keeps the last value in the first's place */
            }
            if (scan->extra_count - first_extra >= MAX_EXTRAS)
                return 0;
            if (scan->extra_count == scan->extra_capacity) {
                Py_ssize_t capacity = scan->extra_capacity ? scan->extra_capacity * 2 : 1024;
                Extra *grown = PyMem_Realloc(scan->extras, sizeof(Extra) * (size_t)capacity);
                if (grown == NULL)
                    return -1;
                scan->extras = grown;
                scan->extra_capacity = capacity;
            }
            Extra *extra = &scan->extras[scan->extra_count++];
            extra->key.start = (uint32_t)(key - line);
            extra->key.length = (uint32_t)key_length;
            extra->value.start = (uint32_t)(value - line);
            extra->value.length = (uint32_t)(value_end - value);
        }
        at = skip_spaces(at, end);
        if (at >= end)
            return 0;
        if (*at == ',') {
            at = skip_spaces(at + 1, end);
            continue;
        }
        if (*at++ != '}')
            return 0;
        break;
    }
    if (skip_spaces(at, end) != end || !have_timestamp)
        return 0;
    if (scanner->level_field >= 0) {
        const Span level = taken->fields[scanner->level_field];
        for (Py_ssize_t i = 0; i < scanner->error_level_count; i++) {
            if (scanner->error_level_lengths[i] != (Py_ssize_t)level.length)
                continue;
            Py_ssize_t j = 0;
            for (; j < (Py_ssize_t)level.length; j++) {
                char c = line[level.start + j];
                if (c >= 'A' && c <= 'Z')
                    c = (char)(c + 32);
                if (c != scanner->error_levels[i][j])
                    break;
            }
            if (j == (Py_ssize_t)level.length)
                return 0;
        }
    }
    taken->first_extra = (uint32_t)first_extra;
    taken->extra_count = (uint16_t)(scan->extra_count - first_extra);
    return 1;
}

static Span stripped(Span span, const char *line) {
    while (span.length && line[span.start] == ' ') {
        span.start++;
        span.length--;
    }
    while (span.length && line[span.start + span.length - 1] == ' ')
        span.length--;
    return span;
}

/* a text and its newline (Scanner_scan sized the buffer for them all) */
static void append_text(Texts *texts, const char *line, Span span) {
    memcpy(texts->data + texts->length, line + span.start, span.length);
    texts->length += span.length;
    texts->data[texts->length++] = '\n';
}

/* give back what a buffer holds beyond ``size`` bytes (it keeps them if the allocator will not) */
static void shrink(void **buffer, size_t size) {
    void *smaller = PyMem_Realloc(*buffer, size);
    if (smaller != NULL)
        *buffer = smaller;
}

/* ---- Scanner ---- */

static void Scanner_dealloc(Scanner *self) {
    for (Py_ssize_t i = 0; i < self->key_slots; i++)
        PyMem_Free(self->keys ? self->keys[i].name : NULL);
    PyMem_Free(self->keys);
    for (Py_ssize_t i = 0; i < self->error_level_count; i++)
        PyMem_Free(self->error_levels[i]);
    PyMem_Free(self->error_levels);
    PyMem_Free(self->error_level_lengths);
    for (Py_ssize_t i = 0; i < self->column_count; i++) {
        PyMem_Free(self->columns[i].header);
        PyMem_Free(self->columns[i].constant);
    }
    PyMem_Free(self->columns);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static char *copied(const char *data, Py_ssize_t length) {
    char *copy = PyMem_Malloc((size_t)length + 1);
    if (copy != NULL) {
        memcpy(copy, data, (size_t)length);
        copy[length] = 0;
    }
    return copy;
}

static Py_ssize_t put_varint(char *out, uint64_t value) {
    Py_ssize_t n = 0;
    do {
        unsigned char byte = value & 0x7f;
        value >>= 7;
        out[n++] = (char)(value ? byte | 0x80 : byte);
    } while (value);
    return n;
}

static Py_ssize_t varint_size(uint64_t value) {
    Py_ssize_t n = 1;
    while (value >= 0x80) {
        value >>= 7;
        n++;
    }
    return n;
}

static int Scanner_init(Scanner *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"keys", "level_field", "error_levels", "columns", "text_fields", "attributes_are_text",
                            NULL};
    PyObject *keys, *error_levels, *columns, *text_fields;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!iOOOp", names, &PyDict_Type, &keys, &self->level_field,
                                     &error_levels, &columns, &text_fields, &self->attributes_are_text))
        return -1;
    if (self->keys != NULL) {
        PyErr_SetString(PyExc_TypeError, "a Scanner is made once");
        return -1;
    }
    Py_ssize_t count = PyDict_Size(keys);
    self->key_slots = 16;
    while (self->key_slots < count * 4)
        self->key_slots *= 2;
    self->keys = PyMem_Calloc((size_t)self->key_slots, sizeof(KeyEntry));
    if (self->keys == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    PyObject *key, *value;
    Py_ssize_t position = 0;
    self->field_count = 0;
    while (PyDict_Next(keys, &position, &key, &value)) {
        Py_ssize_t length;
        const char *name = PyUnicode_AsUTF8AndSize(key, &length);
        if (name == NULL)
            return -1;
        long code = PyLong_AsLong(value);
        if (code == -1 && PyErr_Occurred())
            return -1;
        if (code < KEY_TIMESTAMP || code >= MAX_FIELDS || length > MAX_KEY) {
            PyErr_SetString(PyExc_ValueError, "a key's code is a field number, -1 (general) or -2 (timestamp)");
            return -1;
        }
        if (code >= self->field_count)
            self->field_count = (int)code + 1;
        uint64_t slot = hash_bytes(name, length) & (uint64_t)(self->key_slots - 1);
        while (self->keys[slot].name != NULL)
            slot = (slot + 1) & (uint64_t)(self->key_slots - 1);
        self->keys[slot].name = copied(name, length);
        if (self->keys[slot].name == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        self->keys[slot].length = length;
        self->keys[slot].code = (int)code;
        self->key_count++;
    }
    if (self->level_field >= self->field_count) {
        PyErr_SetString(PyExc_ValueError, "level_field is not a field");
        return -1;
    }
    PyObject *levels = PySequence_Fast(error_levels, "error_levels: a sequence of str");
    if (levels == NULL)
        return -1;
    self->error_level_count = PySequence_Fast_GET_SIZE(levels);
    self->error_levels = PyMem_Calloc((size_t)self->error_level_count + 1, sizeof(char *));
    self->error_level_lengths = PyMem_Calloc((size_t)self->error_level_count + 1, sizeof(Py_ssize_t));
    for (Py_ssize_t i = 0; i < self->error_level_count; i++) {
        Py_ssize_t length;
        const char *level = PyUnicode_AsUTF8AndSize(PySequence_Fast_GET_ITEM(levels, i), &length);
        if (level == NULL) {
            Py_DECREF(levels);
            return -1;
        }
        self->error_levels[i] = copied(level, length);
        self->error_level_lengths[i] = length;
    }
    Py_DECREF(levels);
    PyObject *layout = PySequence_Fast(columns, "columns: a sequence of (name, type, kind, field, flags, constant)");
    if (layout == NULL)
        return -1;
    self->column_count = PySequence_Fast_GET_SIZE(layout);
    self->columns = PyMem_Calloc((size_t)self->column_count + 1, sizeof(Column));
    for (Py_ssize_t i = 0; i < self->column_count; i++) {
        const char *name, *type, *constant;
        Py_ssize_t name_length, type_length, constant_length;
        Column *column = &self->columns[i];
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(layout, i), "s#s#iiiy#", &name, &name_length, &type,
                              &type_length, &column->kind, &column->field, &column->flags, &constant,
                              &constant_length)) {
            Py_DECREF(layout);
            return -1;
        }
        if (column->kind < COLUMN_TIMESTAMP || column->kind > COLUMN_OFFSET ||
            (column->kind == COLUMN_FIELD && (column->field < 0 || column->field >= self->field_count))) {
            Py_DECREF(layout);
            PyErr_Format(PyExc_ValueError, "column %s: no such kind or field", name);
            return -1;
        }
        column->header = PyMem_Malloc((size_t)(name_length + type_length + 20));
        Py_ssize_t n = put_varint(column->header, (uint64_t)name_length);
        memcpy(column->header + n, name, (size_t)name_length);
        n += name_length;
        n += put_varint(column->header + n, (uint64_t)type_length);
        memcpy(column->header + n, type, (size_t)type_length);
        column->header_length = n + type_length;
        column->constant = copied(constant, constant_length);
        column->constant_length = constant_length;
    }
    Py_DECREF(layout);
    PyObject *texts = PySequence_Fast(text_fields, "text_fields: a sequence of field numbers");
    if (texts == NULL)
        return -1;
    if (PySequence_Fast_GET_SIZE(texts) > MAX_FIELDS) {
        Py_DECREF(texts);
        PyErr_SetString(PyExc_ValueError, "more text fields than fields");
        return -1;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(texts); i++) {
        long field = PyLong_AsLong(PySequence_Fast_GET_ITEM(texts, i));
        if (field < 0 || field >= self->field_count) {
            Py_DECREF(texts);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "a text field is not a field");
            return -1;
        }
        self->text_fields[self->text_field_count++] = (int)field;
    }
    Py_DECREF(texts);
    return 0;
}

/* ---- Scan ---- */

static void free_texts(Texts *texts) {
    PyMem_Free(texts->data);
    PyMem_Free(texts->ends);
    *texts = (Texts){NULL, 0, NULL};
}

static void Scan_dealloc(Scan *self) {
    Py_XDECREF(self->scanner);
    Py_XDECREF(self->values);
    Py_XDECREF(self->topic);
    PyMem_Free(self->offsets);
    PyMem_Free(self->taken);
    PyMem_Free(self->extras);
    PyMem_Free(self->taken_of_line);
    free_texts(&self->messages);
    free_texts(&self->texts);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

PyDoc_STRVAR(Scanner_scan_doc,
             "scan(values, offsets, declined, earliest, latest, topic, partition, message_field) -> Scan\n\n"
             "Scan one fetch's lines of one partition. ``declined`` (a bytearray, one byte a line) marks\n"
             "lines already declined on entry and every declined line on return; ``earliest`` and\n"
             "``latest`` bound the timestamps taken, in microseconds since the epoch.");

static PyObject *Scanner_scan(Scanner *self, PyObject *args) {
    PyObject *values, *offsets, *topic;
    Py_buffer declined;
    long long earliest, latest;
    int partition, message_field;
    if (!PyArg_ParseTuple(args, "OOw*LLUii", &values, &offsets, &declined, &earliest, &latest, &topic, &partition,
                          &message_field))
        return NULL;
    Scan *scan = NULL;
    PyObject *offset_list = NULL;
    if (self->keys == NULL) {
        PyErr_SetString(PyExc_TypeError, "a Scanner is given its contract (__init__) before it scans");
        goto fail;
    }
    if (message_field < 0 || message_field >= self->field_count) {
        PyErr_SetString(PyExc_ValueError, "message_field is not a field");
        goto fail;
    }
    scan = PyObject_New(Scan, &ScanType);
    if (scan == NULL)
        goto fail;
    scan->scanner = self;
    Py_INCREF(self);
    scan->values = PySequence_Tuple(values);
    scan->topic = topic;
    Py_INCREF(topic);
    scan->partition = partition;
    scan->offsets = NULL;
    scan->taken = NULL;
    scan->taken_count = 0;
    scan->extras = NULL;
    scan->extra_count = scan->extra_capacity = 0;
    scan->taken_of_line = NULL;
    scan->messages = (Texts){NULL, 0, NULL};
    scan->texts = (Texts){NULL, 0, NULL};
    if (scan->values == NULL)
        goto fail;
    const Py_ssize_t count = PyTuple_GET_SIZE(scan->values);
    scan->line_count = count;
    offset_list = PySequence_Fast(offsets, "offsets: a sequence of int");
    if (offset_list == NULL)
        goto fail;
    if (PySequence_Fast_GET_SIZE(offset_list) != count || declined.len != count) {
        PyErr_SetString(PyExc_ValueError, "values, offsets and declined differ in length");
        goto fail;
    }
    scan->offsets = PyMem_Malloc(sizeof(int64_t) * (size_t)(count + 1));
    scan->taken = PyMem_Malloc(sizeof(Taken) * (size_t)(count + 1));
    scan->taken_of_line = PyMem_Calloc((size_t)count + 1, sizeof(uint32_t));
    scan->messages.ends = PyMem_Malloc(sizeof(uint32_t) * (size_t)(count + 1));
    scan->texts.ends = PyMem_Malloc(sizeof(uint32_t) * (size_t)(count + 1));
    /* a line's texts are parts of it and each extra's newline has a key's quotes to spare: room enough */
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *value = PyTuple_GET_ITEM(scan->values, i);
        if (PyBytes_Check(value))
            total += PyBytes_GET_SIZE(value) + 1 + self->text_field_count;
    }
    scan->messages.data = PyMem_Malloc((size_t)total + 1);
    scan->texts.data = PyMem_Malloc((size_t)total + 1);
    if (scan->offsets == NULL || scan->taken == NULL || scan->taken_of_line == NULL || scan->messages.ends == NULL ||
        scan->messages.data == NULL || scan->texts.ends == NULL || scan->texts.data == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    char *marks = declined.buf;
    for (Py_ssize_t i = 0; i < count; i++) {
        scan->offsets[i] = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(offset_list, i));
        if (scan->offsets[i] == -1 && PyErr_Occurred())
            goto fail;
        PyObject *value = PyTuple_GET_ITEM(scan->values, i);
        if (marks[i] || !PyBytes_Check(value) || PyBytes_GET_SIZE(value) > UINT32_MAX) {
            marks[i] = 1;
            continue;
        }
        Taken *taken = &scan->taken[scan->taken_count];
        const char *line = PyBytes_AS_STRING(value);
        const Py_ssize_t extras_before = scan->extra_count;
        int result = scan_line(scan, line, PyBytes_GET_SIZE(value), earliest, latest, taken);
        if (result < 0) {
            PyErr_NoMemory();
            goto fail;
        }
        if (result == 0) {
            scan->extra_count = extras_before;
            marks[i] = 1;
            continue;
        }
        taken->line = (uint32_t)i;
        /* the message as chain_from_message reads it (message.strip(): only spaces can be at its ends here) */
        append_text(&scan->messages, line, stripped(taken->fields[message_field], line));
        scan->messages.ends[scan->taken_count] = (uint32_t)scan->messages.length;
        for (Py_ssize_t f = 0; f < self->text_field_count; f++)
            append_text(&scan->texts, line, taken->fields[self->text_fields[f]]);
        if (self->attributes_are_text) {
            for (uint32_t e = 0; e < taken->extra_count; e++)
                append_text(&scan->texts, line, scan->extras[taken->first_extra + e].value);
        }
        scan->texts.ends[scan->taken_count] = (uint32_t)scan->texts.length;
        scan->taken_of_line[i] = (uint32_t)(++scan->taken_count);
    }
    /* sized for every line taken: a scan lives until its rows are stored */
    shrink((void **)&scan->taken, sizeof(Taken) * (size_t)(scan->taken_count + 1));
    Py_DECREF(offset_list);
    PyBuffer_Release(&declined);
    return (PyObject *)scan;
fail:
    Py_XDECREF(offset_list);
    Py_XDECREF(scan);
    PyBuffer_Release(&declined);
    return NULL;
}

static PyMethodDef Scanner_methods[] = {
    {"scan", (PyCFunction)Scanner_scan, METH_VARARGS, Scanner_scan_doc},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "correlator.processing._plainlines.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = PyDoc_STR("Scanner(keys, level_field, error_levels, columns): the contract, given once."),
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_methods = Scanner_methods,
};

static PyObject *Scan_messages(Scan *self, PyObject *Py_UNUSED(unused)) {
    return PyBytes_FromStringAndSize(self->messages.data, self->messages.length);
}

static PyObject *Scan_texts(Scan *self, PyObject *Py_UNUSED(unused)) {
    return PyBytes_FromStringAndSize(self->texts.data, self->texts.length);
}

/* the messages and texts are read once, by the scans that decline lines: freed then, not when the rows are stored */
static PyObject *Scan_release_texts(Scan *self, PyObject *Py_UNUSED(unused)) {
    free_texts(&self->messages);
    free_texts(&self->texts);
    Py_RETURN_NONE;
}

/* the taken line (its index in taken) whose part of ``texts`` holds position ``at``, its newline included */
static Py_ssize_t taken_at(const Scan *self, const Texts *texts, Py_ssize_t at) {
    Py_ssize_t low = 0, high = self->taken_count;
    while (low < high) {
        Py_ssize_t middle = (low + high) / 2;
        if ((Py_ssize_t)texts->ends[middle] <= at)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

static void decline_taken(Scan *self, Py_ssize_t index, char *marks) {
    if (index < 0 || index >= self->taken_count)
        return;
    const uint32_t line = self->taken[index].line;
    if (self->taken_of_line[line]) {
        self->taken_of_line[line] = 0;
        marks[line] = 1;
    }
}

/* decline each taken line a match ending at one of ``ends`` touches: the line of its last byte and of its end */
static PyObject *decline_matched(Scan *self, const Texts *texts, PyObject *args) {
    PyObject *ends;
    Py_buffer declined;
    if (!PyArg_ParseTuple(args, "Ow*", &ends, &declined))
        return NULL;
    if (texts->ends == NULL) {
        PyBuffer_Release(&declined);
        PyErr_SetString(PyExc_ValueError, "the scan's texts are released");
        return NULL;
    }
    PyObject *sequence = PySequence_Fast(ends, "ends: a sequence of int");
    if (sequence == NULL || declined.len != self->line_count) {
        if (sequence != NULL)
            PyErr_SetString(PyExc_ValueError, "declined is not one byte a line");
        Py_XDECREF(sequence);
        PyBuffer_Release(&declined);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(sequence); i++) {
        Py_ssize_t end = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(sequence, i));
        if (end == -1 && PyErr_Occurred()) {
            Py_DECREF(sequence);
            PyBuffer_Release(&declined);
            return NULL;
        }
        decline_taken(self, taken_at(self, texts, end), declined.buf);
        if (end > 0)
            decline_taken(self, taken_at(self, texts, end - 1), declined.buf);
    }
    Py_DECREF(sequence);
    PyBuffer_Release(&declined);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(Scan_decline_messages_doc,
             "decline_messages(ends, declined)\n\n"
             "Decline the lines a match ending at each of ``ends`` (offsets into messages()) touches.");

static PyObject *Scan_decline_messages(Scan *self, PyObject *args) { return decline_matched(self, &self->messages, args); }

PyDoc_STRVAR(Scan_decline_texts_doc,
             "decline_texts(ends, declined)\n\n"
             "Decline the lines a match ending at each of ``ends`` (offsets into texts()) touches.");

static PyObject *Scan_decline_texts(Scan *self, PyObject *args) { return decline_matched(self, &self->texts, args); }

PyDoc_STRVAR(Scan_runs_doc,
             "runs() -> list[tuple[int, int, int]]\n\n"
             "The taken lines as runs (start, stop, day): consecutive lines, all taken, of one UTC day\n"
             "(days since 1970-01-01).");

static int64_t day_of(int64_t micros) {
    const int64_t day = 86400LL * 1000000LL;
    return micros >= 0 ? micros / day : -((-micros + day - 1) / day);
}

static PyObject *Scan_runs(Scan *self, PyObject *Py_UNUSED(unused)) {
    PyObject *runs = PyList_New(0);
    if (runs == NULL)
        return NULL;
    Py_ssize_t start = -1;
    int64_t day = 0;
    for (Py_ssize_t line = 0; line <= self->line_count; line++) {
        const uint32_t taken = line < self->line_count ? self->taken_of_line[line] : 0;
        const int64_t this_day = taken ? day_of(self->taken[taken - 1].ts) : 0;
        if (start >= 0 && (!taken || this_day != day)) {
            PyObject *run = Py_BuildValue("(nnL)", start, line, (long long)day);
            if (run == NULL || PyList_Append(runs, run) < 0) {
                Py_XDECREF(run);
                Py_DECREF(runs);
                return NULL;
            }
            Py_DECREF(run);
            start = -1;
        }
        if (taken && start < 0) {
            start = line;
            day = this_day;
        }
    }
    return runs;
}

/* ---- the Native block ---- */

typedef struct {
    const Scan *scan;
    const Taken **rows;
    Py_ssize_t row_count;
    const char *topic;
    Py_ssize_t topic_length;
} Block;

static inline const char *line_of(const Block *block, const Taken *taken) {
    return PyBytes_AS_STRING(PyTuple_GET_ITEM(block->scan->values, taken->line));
}

static Span field_span(const Column *column, const Taken *taken, const char *line) {
    Span span = taken->fields[column->field];
    return column->flags & FLAG_STRIP ? stripped(span, line) : span;
}

static Py_ssize_t string_size(Py_ssize_t length) { return varint_size((uint64_t)length) + length; }

static Py_ssize_t block_size(const Block *block) {
    const Scanner *scanner = block->scan->scanner;
    const Py_ssize_t rows = block->row_count;
    Py_ssize_t size = varint_size((uint64_t)scanner->column_count) + varint_size((uint64_t)rows);
    for (Py_ssize_t c = 0; c < scanner->column_count; c++) {
        const Column *column = &scanner->columns[c];
        size += column->header_length;
        switch (column->kind) {
        case COLUMN_TIMESTAMP:
        case COLUMN_OFFSET:
        case COLUMN_EMPTY_ARRAY:
            size += 8 * rows;
            break;
        case COLUMN_PARTITION:
            size += 4 * rows;
            break;
        case COLUMN_NULL_FLOAT:
            size += 9 * rows;
            break;
        case COLUMN_CONSTANT:
            size += string_size(column->constant_length) * rows;
            break;
        case COLUMN_TOPIC:
            size += string_size(block->topic_length) * rows;
            break;
        case COLUMN_FIELD:
            for (Py_ssize_t r = 0; r < rows; r++)
                size += string_size(field_span(column, block->rows[r], line_of(block, block->rows[r])).length);
            break;
        case COLUMN_ATTRIBUTES:
            size += 8 * rows;
            for (Py_ssize_t r = 0; r < rows; r++) {
                const Taken *taken = block->rows[r];
                for (uint32_t e = 0; e < taken->extra_count; e++) {
                    const Extra *extra = &block->scan->extras[taken->first_extra + e];
                    size += string_size(extra->key.length) + string_size(extra->value.length);
                }
            }
            break;
        }
    }
    return size;
}

static char *put_string(char *out, const char *data, Py_ssize_t length, int lower) {
    out += put_varint(out, (uint64_t)length);
    if (lower) {
        for (Py_ssize_t i = 0; i < length; i++) {
            char c = data[i];
            out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    } else {
        memcpy(out, data, (size_t)length);
    }
    return out + length;
}

static char *put_le(char *out, uint64_t value, int bytes) {
    for (int i = 0; i < bytes; i++)
        out[i] = (char)(value >> (8 * i));
    return out + bytes;
}

static void write_block(const Block *block, char *out) {
    const Scanner *scanner = block->scan->scanner;
    const Py_ssize_t rows = block->row_count;
    out += put_varint(out, (uint64_t)scanner->column_count);
    out += put_varint(out, (uint64_t)rows);
    for (Py_ssize_t c = 0; c < scanner->column_count; c++) {
        const Column *column = &scanner->columns[c];
        memcpy(out, column->header, (size_t)column->header_length);
        out += column->header_length;
        switch (column->kind) {
        case COLUMN_TIMESTAMP:
            for (Py_ssize_t r = 0; r < rows; r++)
                out = put_le(out, (uint64_t)block->rows[r]->ts, 8);
            break;
        case COLUMN_OFFSET:
            for (Py_ssize_t r = 0; r < rows; r++)
                out = put_le(out, (uint64_t)block->scan->offsets[block->rows[r]->line], 8);
            break;
        case COLUMN_PARTITION:
            for (Py_ssize_t r = 0; r < rows; r++)
                out = put_le(out, (uint64_t)(uint32_t)block->scan->partition, 4);
            break;
        case COLUMN_EMPTY_ARRAY:
            memset(out, 0, (size_t)(8 * rows));
            out += 8 * rows;
            break;
        case COLUMN_NULL_FLOAT:
            memset(out, 1, (size_t)rows);
            memset(out + rows, 0, (size_t)(8 * rows));
            out += 9 * rows;
            break;
        case COLUMN_CONSTANT:
            for (Py_ssize_t r = 0; r < rows; r++)
                out = put_string(out, column->constant, column->constant_length, 0);
            break;
        case COLUMN_TOPIC:
            for (Py_ssize_t r = 0; r < rows; r++)
                out = put_string(out, block->topic, block->topic_length, 0);
            break;
        case COLUMN_FIELD:
            for (Py_ssize_t r = 0; r < rows; r++) {
                const char *line = line_of(block, block->rows[r]);
                const Span span = field_span(column, block->rows[r], line);
                out = put_string(out, line + span.start, span.length, column->flags & FLAG_LOWER);
            }
            break;
        case COLUMN_ATTRIBUTES: {
            uint64_t pairs = 0;
            for (Py_ssize_t r = 0; r < rows; r++) {
                pairs += block->rows[r]->extra_count;
                out = put_le(out, pairs, 8);
            }
            for (int part = 0; part < 2; part++) {
                for (Py_ssize_t r = 0; r < rows; r++) {
                    const Taken *taken = block->rows[r];
                    const char *line = line_of(block, taken);
                    for (uint32_t e = 0; e < taken->extra_count; e++) {
                        const Extra *extra = &block->scan->extras[taken->first_extra + e];
                        const Span span = part == 0 ? extra->key : extra->value;
                        out = put_string(out, line + span.start, span.length, 0);
                    }
                }
            }
            break;
        }
        }
    }
}

PyDoc_STRVAR(Scan_encode_doc,
             "encode(runs) -> bytes\n\n"
             "One Native block of the taken lines in these (start, stop) line ranges, in order.");

static PyObject *Scan_encode(Scan *self, PyObject *runs) {
    PyObject *sequence = PySequence_Fast(runs, "runs: a sequence of (start, stop)");
    if (sequence == NULL)
        return NULL;
    Block block = {.scan = self, .rows = NULL, .row_count = 0};
    block.rows = PyMem_Malloc(sizeof(Taken *) * (size_t)(self->taken_count + 1));
    if (block.rows == NULL) {
        Py_DECREF(sequence);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(sequence); i++) {
        Py_ssize_t start, stop;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(sequence, i), "nn", &start, &stop))
            goto fail;
        if (start < 0 || stop > self->line_count || start > stop) {
            PyErr_SetString(PyExc_IndexError, "a run outside the scan's lines");
            goto fail;
        }
        for (Py_ssize_t line = start; line < stop; line++) {
            if (!self->taken_of_line[line]) {
                PyErr_SetString(PyExc_ValueError, "a run holds a declined line");
                goto fail;
            }
            if (block.row_count >= self->taken_count) {
                PyErr_SetString(PyExc_ValueError, "runs overlap");
                goto fail;
            }
            block.rows[block.row_count++] = &self->taken[self->taken_of_line[line] - 1];
        }
    }
    block.topic = PyUnicode_AsUTF8AndSize(self->topic, &block.topic_length);
    if (block.topic == NULL)
        goto fail;
    Py_ssize_t size = block_size(&block);
    PyObject *result = PyBytes_FromStringAndSize(NULL, size);
    if (result == NULL)
        goto fail;
    char *out = PyBytes_AS_STRING(result);
    Py_BEGIN_ALLOW_THREADS write_block(&block, out);
    Py_END_ALLOW_THREADS PyMem_Free(block.rows);
    Py_DECREF(sequence);
    return result;
fail:
    PyMem_Free(block.rows);
    Py_DECREF(sequence);
    return NULL;
}

static PyObject *Scan_lines(Scan *self, void *Py_UNUSED(closure)) {
    Py_INCREF(self->values);
    return self->values;
}

static PyObject *Scan_offsets(Scan *self, void *Py_UNUSED(closure)) {
    PyObject *offsets = PyList_New(self->line_count);
    if (offsets == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < self->line_count; i++) {
        PyObject *offset = PyLong_FromLongLong(self->offsets[i]);
        if (offset == NULL) {
            Py_DECREF(offsets);
            return NULL;
        }
        PyList_SET_ITEM(offsets, i, offset);
    }
    return offsets;
}

static PyObject *Scan_taken(Scan *self, void *Py_UNUSED(closure)) { return PyLong_FromSsize_t(self->taken_count); }

static PyMethodDef Scan_methods[] = {
    {"messages", (PyCFunction)Scan_messages, METH_NOARGS,
     PyDoc_STR("messages() -> bytes: each taken line's message, stripped, ended by a newline, in line order")},
    {"texts", (PyCFunction)Scan_texts, METH_NOARGS,
     PyDoc_STR("texts() -> bytes: each taken line's texts that redaction reads, each ended by a newline")},
    {"decline_messages", (PyCFunction)Scan_decline_messages, METH_VARARGS, Scan_decline_messages_doc},
    {"release_texts", (PyCFunction)Scan_release_texts, METH_NOARGS,
     PyDoc_STR("release_texts(): free messages() and texts(), once the lines they decline are declined")},
    {"decline_texts", (PyCFunction)Scan_decline_texts, METH_VARARGS, Scan_decline_texts_doc},
    {"runs", (PyCFunction)Scan_runs, METH_NOARGS, Scan_runs_doc},
    {"encode", (PyCFunction)Scan_encode, METH_O, Scan_encode_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Scan_getset[] = {
    {"lines", (getter)Scan_lines, NULL, PyDoc_STR("the scanned lines, as given"), NULL},
    {"offsets", (getter)Scan_offsets, NULL, PyDoc_STR("each line's offset, as given"), NULL},
    {"taken", (getter)Scan_taken, NULL, PyDoc_STR("how many lines are taken"), NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ScanType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "correlator.processing._plainlines.Scan",
    .tp_basicsize = sizeof(Scan),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = PyDoc_STR("One fetch's lines, scanned: which are taken, and their block."),
    .tp_dealloc = (destructor)Scan_dealloc,
    .tp_methods = Scan_methods,
    .tp_getset = Scan_getset,
};

static struct PyModuleDef plainlines_module = {
    PyModuleDef_HEAD_INIT, "_plainlines", "Plain log lines from bytes to a ClickHouse Native block.", -1, NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__plainlines(void) {
    static const struct {
        const char *name;
        int value;
    } constants[] = {
        {"KEY_GENERAL", KEY_GENERAL},
        {"KEY_TIMESTAMP", KEY_TIMESTAMP},
        {"COLUMN_TIMESTAMP", COLUMN_TIMESTAMP},
        {"COLUMN_FIELD", COLUMN_FIELD},
        {"COLUMN_CONSTANT", COLUMN_CONSTANT},
        {"COLUMN_EMPTY_ARRAY", COLUMN_EMPTY_ARRAY},
        {"COLUMN_ATTRIBUTES", COLUMN_ATTRIBUTES},
        {"COLUMN_NULL_FLOAT", COLUMN_NULL_FLOAT},
        {"COLUMN_TOPIC", COLUMN_TOPIC},
        {"COLUMN_PARTITION", COLUMN_PARTITION},
        {"COLUMN_OFFSET", COLUMN_OFFSET},
        {"FLAG_LOWER", FLAG_LOWER},
        {"FLAG_STRIP", FLAG_STRIP},
    };
    PyTypeObject *types[] = {&ScannerType, &ScanType};
    PyObject *module = PyModule_Create(&plainlines_module);
    if (module == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (PyType_Ready(types[i]) < 0 || PyModule_AddObjectRef(module, strrchr(types[i]->tp_name, '.') + 1,
                                                                (PyObject *)types[i]) < 0) {
            Py_DECREF(module);
            return NULL;
        }
    }
    for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++) {
        if (PyModule_AddIntConstant(module, constants[i].name, constants[i].value) < 0) {
            Py_DECREF(module);
            return NULL;
        }
    }
    return module;
}
