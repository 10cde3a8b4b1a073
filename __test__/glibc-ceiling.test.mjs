// The glibc ceiling check's readelf parsing, on fixture text: the check that
// keeps the Linux glibc packages loadable on glibc 2.17 is only as good as it.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  compareVersions,
  highest,
  neededGlibcVersions,
  symbolsByGlibcVersion,
} from '../scripts/cross/glibc-ceiling.mjs'

const READELF_V = `
Version symbols section '.gnu.version' contains 3 entries:
 Addr: 0x0000000000001a2e  Offset: 0x00001a2e  Link: 7 (.dynsym)
  000:   0 (*local*)       3 (GLIBC_2.2.5)   2 (GLIBC_2.34)

Version definition section '.gnu.version_d' contains 1 entry:
  000000: Rev: 1  Flags: BASE  Index: 1  Cnt: 1  Name: libfake.so
  0x001c: Rev: 1  Flags: none  Index: 2  Cnt: 1  Name: GLIBC_9.99

Version needs section '.gnu.version_r' contains 3 entries:
 Addr: 0x0000000000001b54  Offset: 0x00001b54  Link: 8 (.dynstr)
  000000: Version: 1  File: libgcc_s.so.1  Cnt: 1
  0x0040:   Name: GCC_4.2.0  Flags: none  Version: 5
  0x0010: Version: 1  File: libm.so.6  Cnt: 1
  0x0070:   Name: GLIBC_2.9  Flags: none  Version: 8
  0x0020: Version: 1  File: libc.so.6  Cnt: 4
  0x0080:   Name: GLIBC_2.2.5  Flags: none  Version: 3
  0x0090:   Name: GLIBC_2.17  Flags: none  Version: 4
  0x00a0:   Name: GLIBC_2.3.4  Flags: none  Version: 6
  0x00b0:   Name: GLIBC_PRIVATE  Flags: none  Version: 7
`

const DYN_SYMS = `
Symbol table '.dynsym' contains 5 entries:
   Num:    Value          Size Type    Bind   Vis      Ndx Name
     1: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND clock_gettime@GLIBC_2.17 (4)
     2: 0000000000000000     0 FUNC    WEAK   DEFAULT  UND __cxa_finalize@GLIBC_2.2.5 (3)
     3: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND secure_getenv@GLIBC_2.17 (4)
     4: 0000000000001234    42 FUNC    GLOBAL DEFAULT   12 napi_register_module_v1
     5: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND memcpy@@GLIBC_2.14 (5)
`

describe('glibc ceiling parser', () => {
  it('reads only the needed versions, not definitions or GLIBC_PRIVATE', () => {
    assert.deepEqual(neededGlibcVersions(READELF_V), ['2.9', '2.2.5', '2.17', '2.3.4'])
  })

  it('finds no glibc in a static binary', () => {
    assert.deepEqual(neededGlibcVersions('\nThere are no version information in this file.\n'), [])
    assert.equal(highest([]), null)
  })

  it('compares versions numerically, not as text', () => {
    assert.equal(highest(['2.9', '2.2.5', '2.17', '2.3.4']), '2.17')
    assert.ok(compareVersions('2.17', '2.9') > 0)
    assert.ok(compareVersions('2.2.5', '2.2') > 0)
    assert.equal(compareVersions('2.17', '2.17.0'), 0)
  })

  it('names the undefined symbols of each version', () => {
    const byVersion = symbolsByGlibcVersion(DYN_SYMS)
    assert.deepEqual([...byVersion.get('2.17')].sort(), ['clock_gettime', 'secure_getenv'])
    assert.deepEqual([...byVersion.get('2.14')], ['memcpy'])
    assert.equal(byVersion.has('2.34'), false)
  })
})
