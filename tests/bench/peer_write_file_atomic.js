// peer_write_file_atomic.js DIR COUNT SIZE - the small-files work of the
// benchmark done by node with the write-file-atomic package (installed by
// `make deps-bench` under build/bench/npm; WFA_DIR names that directory):
// DIR/fNNNN.json, SIZE bytes each.  writeFileAtomicSync writes a temp
// beside the target, fsyncs it and renames it over the target; it does
// not fsync the directory: the library's durability "file".
'use strict';
const path = require('path');
const writeFileAtomic = require(path.join(process.env.WFA_DIR, 'node_modules', 'write-file-atomic'));

const [dir, count, size] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const data = Buffer.alloc(size, 'x');
for (let i = 0; i < count; i++)
	writeFileAtomic.sync(path.join(dir, 'f' + String(i).padStart(4, '0') + '.json'), data);
