import { expect, test } from 'vitest'
import { createNonceLanes } from './nonceLanes.js'

test('behavior: sends at once get distinct lanes, the lowest free first; one at a time always uses lane 0', async () => {
  const lanes = createNonceLanes(4)
  const taken = await Promise.all([0, 1, 2].map(() => lanes.acquire('a')))
  expect(taken.map((t) => t.lane)).toEqual([0, 1, 2])
  taken[1]!.release()
  expect((await lanes.acquire('a')).lane).toBe(1)
  // Another account has its own lanes.
  expect((await lanes.acquire('b')).lane).toBe(0)
  const solo = createNonceLanes(4)
  for (let i = 0; i < 3; i++) {
    const lane = await solo.acquire('a')
    expect(lane.lane).toBe(0)
    lane.release()
  }
})

test('behavior: past the limit a send waits in line and takes the lane freed first; never more than the limit', async () => {
  const lanes = createNonceLanes(2)
  const first = await lanes.acquire('a')
  const second = await lanes.acquire('a')
  const order: number[] = []
  const third = lanes.acquire('a').then((t) => {
    order.push(3)
    return t
  })
  const fourth = lanes.acquire('a').then((t) => {
    order.push(4)
    return t
  })
  await new Promise((resolve) => setTimeout(resolve, 10))
  expect(order).toEqual([])
  second.release()
  second.release() // twice changes nothing
  expect((await third).lane).toBe(1)
  expect(order).toEqual([3])
  first.release()
  expect((await fourth).lane).toBe(0)
  expect(order).toEqual([3, 4])
})
